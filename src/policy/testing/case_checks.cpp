// SPDX-License-Identifier: Apache-2.0
// Comparing one tick's outcome with what the case expects; messages name the
// policy's file:line behind each proposal.
#include <algorithm>
#include <cmath>

#include "common/units.h"
#include "policy/testing/case_runner.h"

namespace trimtab {
namespace {

// How many log lines a "no log line matched" message quotes.
constexpr std::size_t kQuotedLogLines = 5;

std::string quoteLogLines(const std::vector<std::string>& lines) {
  std::string out = lines.empty() ? "no log lines" : "";
  for (std::size_t i = 0; i < lines.size() && i < kQuotedLogLines; ++i) out += (i ? " | '" : "'") + lines[i] + "'";
  if (lines.size() > kQuotedLogLines) out += " | ...";
  return out;
}

std::string show(const Proposal& p) {
  return p.knob + "=" + formatShortest(p.value) + " (" + p.location + ")";
}

std::string show(const ExpectedProposal& e) {
  if (e.value) return e.knob + "=" + formatShortest(*e.value);
  if (e.min && e.max) return e.knob + " in [" + formatShortest(*e.min) + ", " + formatShortest(*e.max) + "]";
  if (e.min) return e.knob + " >= " + formatShortest(*e.min);
  if (e.max) return e.knob + " <= " + formatShortest(*e.max);
  return e.knob + " (any value)";
}

std::string showAll(const std::vector<Proposal>& proposals) {
  std::string out;
  for (const Proposal& p : proposals) out += (out.empty() ? "" : ", ") + show(p);
  return out;
}

bool valueMatches(const ExpectedProposal& e, double v) {
  if (e.value) return nearlyEqual(*e.value, v);
  // NaN is inside no range (every comparison with it is false); `true`
  // (any value) still matches it.
  if ((e.min || e.max) && std::isnan(v)) return false;
  if (e.min && v < *e.min && !nearlyEqual(*e.min, v)) return false;
  if (e.max && v > *e.max && !nearlyEqual(*e.max, v)) return false;
  return true;
}

class Checker {
 public:
  Checker(TestFile& tests, std::vector<std::string>& problems) : tests_(tests), problems_(problems) {}

  // Lua pattern match; a bad pattern is itself a problem.
  bool matches(const std::string& subject, const std::string& pattern) {
    Result<bool> found = tests_.find(subject, pattern);
    if (found.ok()) return *found;
    problems_.push_back(found.error().message);
    return false;
  }

  void proposals(const std::vector<ExpectedProposal>& expected, const std::vector<Proposal>& actual) {
    std::vector<bool> used(actual.size(), false);
    for (const ExpectedProposal& e : expected) {
      std::vector<std::size_t> candidates;
      for (std::size_t i = 0; i < actual.size(); ++i) {
        if (!used[i] && actual[i].knob == e.knob) candidates.push_back(i);
      }
      if (candidates.empty()) {
        problems_.push_back("expected proposal " + show(e) + ", got " +
                            (actual.empty() ? std::string("no proposal")
                                            : "no proposal for " + e.knob + " (proposals: " + showAll(actual) + ")"));
        continue;
      }
      auto match = std::find_if(candidates.begin(), candidates.end(), [&](std::size_t i) {
        return valueMatches(e, actual[i].value) && (e.reason.empty() || matches(actual[i].reason, e.reason));
      });
      std::size_t chosen = match != candidates.end() ? *match : candidates.front();
      used[chosen] = true;
      if (match != candidates.end()) continue;
      const Proposal& got = actual[chosen];
      if (!valueMatches(e, got.value)) {
        problems_.push_back("expected proposal " + show(e) + ", got " + show(got));
      } else {
        problems_.push_back("expected proposal " + show(e) + " with a reason matching '" + e.reason + "', got reason '" +
                            got.reason + "' (" + got.location + ")");
      }
    }
    for (std::size_t i = 0; i < actual.size(); ++i) {
      if (!used[i]) problems_.push_back("unexpected proposal " + show(actual[i]));
    }
  }

  void logs(const std::vector<std::string>& patterns, const std::vector<std::string>& lines) {
    for (const std::string& pattern : patterns) {
      bool found = std::any_of(lines.begin(), lines.end(), [&](const std::string& l) { return matches(l, pattern); });
      if (found) continue;
      problems_.push_back("expected a log line matching '" + pattern + "', got " + quoteLogLines(lines));
    }
  }

  void knobs(const std::map<std::string, double>& expected, const std::vector<Decision>& decisions,
             PolicyTestHost& host) {
    for (const auto& [name, value] : expected) {
      const KnobState* knob = host.knob(name);
      if (!knob) {
        problems_.push_back("expect.knobs: this case has no knob '" + name + "'");
        continue;
      }
      if (nearlyEqual(knob->current, value)) continue;
      std::string why;
      for (const Decision& d : decisions) {
        if (d.knob != name) continue;
        why = std::string(" (") + verdictName(d.verdict) + (d.rule.empty() ? "" : ": " + d.rule) + ")";
      }
      problems_.push_back("expected knob " + name + "=" + formatShortest(value) + " after the governor, got " +
                          formatShortest(knob->current) + why);
    }
  }

  void state(const Expectation& expect, PolicyEngine& engine, const std::string& policy) {
    Result<int> ref = engine.copyState(policy, tests_.sandbox());
    Result<LuaValue> actual = ref.ok() ? tests_.takeRef(*ref) : Result<LuaValue>(ref.error());
    if (!actual.ok()) {
      problems_.push_back("cannot read ctx.state: " + actual.error().message);
      return;
    }
    std::string problem;
    if (expect.state && !subsetMatch(*expect.state, *actual, "state", problem)) problems_.push_back(problem);
    for (const std::string& key : expect.stateNil) {
      const LuaValue* v = actual->get(key);
      if (v && !v->isNil()) problems_.push_back("expected state." + key + " to be nil, got " + describe(*v));
    }
  }

 private:
  TestFile& tests_;
  std::vector<std::string>& problems_;
};

// What the tick saw, after a failed expectation: a read that found no data is
// the usual reason for a missing proposal (a misspelt metric, a series the
// case did not give), and its log lines say what it decided.
void addTickContext(const PolicyTickResult& result, bool logsShown, std::vector<std::string>& problems) {
  if (!result.missing.empty()) {
    std::string reads;
    for (const MissingRead& m : result.missing) reads += (reads.empty() ? "" : ", ") + m.what;
    problems.push_back("no data for " + reads);
  }
  if (!logsShown && !result.logs.empty()) problems.push_back("it logged " + quoteLogLines(result.logs));
}

}  // namespace

std::vector<std::string> checkTick(const Expectation& expect, const PolicyTickResult& result,
                                   const std::vector<Decision>& decisions, PolicyTestHost& host,
                                   PolicyEngine& engine, const std::string& policy, TestFile& tests) {
  std::vector<std::string> problems;
  Checker check(tests, problems);
  if (expect.error) {
    if (result.status.ok()) {
      problems.push_back("expected the tick to fail with an error matching '" + *expect.error + "', it succeeded" +
                         (result.proposals.empty() ? "" : " (proposals: " + showAll(result.proposals) + ")"));
    } else if (!check.matches(result.status.error().message, *expect.error)) {
      problems.push_back("expected an error matching '" + *expect.error + "', got: " + result.status.error().message);
    }
  } else if (!result.status.ok()) {
    problems.push_back("the tick failed: " + result.status.error().message);
    return problems;
  }
  if (expect.noProposal && !result.proposals.empty()) {
    problems.push_back("expected no proposal, got " + showAll(result.proposals));
  }
  if (expect.proposals) check.proposals(*expect.proposals, result.proposals);
  check.logs(expect.logs, result.logs);
  check.knobs(expect.knobs, decisions, host);
  if (expect.state || !expect.stateNil.empty()) check.state(expect, engine, policy);
  if (!problems.empty()) addTickContext(result, !expect.logs.empty(), problems);
  return problems;
}

}  // namespace trimtab
