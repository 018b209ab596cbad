// SPDX-License-Identifier: Apache-2.0
#include "controller/governor.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

namespace trimtab {

namespace {

constexpr Seconds kHour = 3600;

void note(std::string& rule, const std::string& text) {
  if (!rule.empty()) rule += "; ";
  rule += text;
}

// Rule 2: names the first stale or missing input, and how many more there are.
std::string badInputRule(const std::vector<InputRead>& inputs) {
  const InputRead* first = nullptr;
  std::size_t bad = 0;
  for (const InputRead& in : inputs) {
    if (!in.stale && !in.missing) continue;
    if (!first) first = &in;
    ++bad;
  }
  if (!first) return {};
  std::string rule = fmt::format("{} input {}", first->missing ? "missing" : "stale", first->what);
  if (bad > 1) rule += fmt::format(" (+{} more)", bad - 1);
  return rule;
}

// Does proposal `b` beat the current winner `a` for the same knob?
bool beats(const Proposal& b, const Proposal& a) {
  if (b.priority != a.priority) return b.priority > a.priority;
  if (b.order != a.order) return b.order < a.order;
  return b.policy == a.policy;  // a policy's later proposal replaces its earlier one
}

}  // namespace

void Governor::addKnob(const KnobSpec& spec) {
  auto it = knobs_.find(spec.name);
  if (it != knobs_.end()) {
    it->second.spec = spec;
    return;
  }
  KnobState state;
  state.spec = spec;
  state.current = spec.baseline;
  knobs_.emplace(spec.name, std::move(state));
}

double withinKnob(const KnobSpec& spec, double value) {
  double v = std::clamp(value, spec.min, spec.max);
  if (spec.integer && v != std::round(v)) {
    v = std::round(v);
    // Fractional bounds on an integer knob: stay inside them.
    if (v > spec.max) v = std::floor(spec.max);
    if (v < spec.min) v = std::ceil(spec.min);
  }
  return v;
}

void Governor::setCurrent(const std::string& knob, double value) {
  if (auto it = knobs_.find(knob); it != knobs_.end()) it->second.current = value;
}

const KnobState* Governor::knob(const std::string& name) const {
  auto it = knobs_.find(name);
  return it == knobs_.end() ? nullptr : &it->second;
}

std::vector<Decision> Governor::decide(const std::vector<Proposal>& proposals, Seconds now) {
  std::vector<Decision> out;
  out.reserve(proposals.size());
  std::map<std::string, std::size_t> winner;  // knob -> index of the best proposal so far

  for (std::size_t i = 0; i < proposals.size(); ++i) {
    const Proposal& p = proposals[i];
    Decision d;
    d.time = now;
    d.policy = p.policy;
    d.knob = p.knob;
    d.proposed = p.value;
    d.reason = p.reason;
    d.location = p.location;
    d.inputs = p.inputs;
    d.verdict = Verdict::Vetoed;
    auto it = knobs_.find(p.knob);
    if (it != knobs_.end()) d.previous = d.decided = it->second.current;

    if (it == knobs_.end()) {
      d.rule = fmt::format("unknown knob \"{}\"", p.knob);
    } else if (std::isnan(p.value)) {
      d.rule = "NaN proposal";
    } else if (std::isinf(p.value)) {
      d.rule = "infinite proposal";
    } else if (std::string bad = badInputRule(p.inputs); !bad.empty()) {
      d.rule = std::move(bad);
    } else {
      auto [w, inserted] = winner.try_emplace(p.knob, i);
      if (!inserted && beats(p, proposals[w->second])) w->second = i;
    }
    out.push_back(std::move(d));
  }

  // Rule 3 for the losers; rules 4-9 for each knob's winner.
  for (std::size_t i = 0; i < proposals.size(); ++i) {
    if (!out[i].rule.empty()) continue;  // refused by rules 1-2
    const std::size_t w = winner.at(proposals[i].knob);
    if (w != i) {
      const Proposal& p = proposals[w];
      out[i].rule = p.policy == proposals[i].policy
                        ? fmt::format("superseded by a later proposal of policy {}", p.policy)
                        : fmt::format("lost to policy {} (priority {})", p.policy, p.priority);
      continue;
    }
    applyRules(knobs_.at(proposals[i].knob), out[i], now);
  }
  return out;
}

void Governor::applyRules(KnobState& state, Decision& d, Seconds now) {
  const KnobSpec& spec = state.spec;
  const double current = state.current;
  std::string rule;
  double v = d.proposed;

  // 4. clamp, round
  const double bounded = withinKnob(spec, v);
  if (v > spec.max) {
    note(rule, fmt::format("clamped to max {}", spec.max));
  } else if (v < spec.min) {
    note(rule, fmt::format("clamped to min {}", spec.min));
  }
  if (spec.integer && std::clamp(v, spec.min, spec.max) != bounded) note(rule, fmt::format("rounded to {}", bounded));
  v = bounded;

  auto refuse = [&](Verdict verdict, const std::string& why) {
    note(rule, why);
    d.verdict = verdict;
    d.decided = current;
    d.rule = std::move(rule);
  };

  // 5. deadband
  const double change = std::fabs(v - current);
  if (change == 0) return refuse(Verdict::Unchanged, "no change");
  if (change < spec.deadband) {
    return refuse(Verdict::Unchanged, fmt::format("within deadband {} (change {:.6g})", spec.deadband, change));
  }

  // 6. an actuation still in flight: deciding again before it lands would
  // race two changes on one target (and the cooldown may be shorter than the
  // actuator's timeout).
  if (state.pending) return refuse(Verdict::Vetoed, "previous change still being applied");

  // 6b. cooldown
  if (state.lastChange >= 0 && now - state.lastChange < spec.cooldown) {
    return refuse(Verdict::Vetoed,
                  fmt::format("cooldown {}s left", std::ceil((spec.cooldown - (now - state.lastChange)) * 10) / 10));
  }

  // 7. max changes per hour. History is kept for the longer of an hour and
  // the cooldown, so markFailed() can restore the previous change time.
  auto& times = changeTimes_[spec.name];
  const Seconds keep = std::max(kHour, spec.cooldown);
  times.erase(times.begin(), std::find_if(times.begin(), times.end(),
                                          [&](Seconds t) { return t > now - keep; }));
  if (spec.maxChangesPerHour > 0) {
    auto inHour = std::count_if(times.begin(), times.end(), [&](Seconds t) { return t > now - kHour; });
    if (inHour >= spec.maxChangesPerHour) {
      return refuse(Verdict::Vetoed, fmt::format("max {} changes per hour reached", spec.maxChangesPerHour));
    }
  }

  // 8. max step
  if (spec.maxStep > 0 && change > spec.maxStep) {
    const double step = spec.integer ? std::floor(spec.maxStep) : spec.maxStep;
    const bool up = v > current;
    double stepped = up ? current + step : current - step;
    if (spec.integer) stepped = up ? std::floor(stepped) : std::ceil(stepped);
    if (stepped == current) {
      return refuse(Verdict::Unchanged,
                    fmt::format("max step {} allows no whole step on an integer knob", spec.maxStep));
    }
    v = stepped;
    note(rule, fmt::format("max step {}", spec.maxStep));
  }

  // 9. dry-run or apply; both move the (shadow) current value.
  d.verdict = (globalDryRun_ || spec.dryRun) ? Verdict::DryRun : Verdict::Apply;
  d.decided = v;
  d.rule = std::move(rule);
  state.current = v;
  state.lastChange = now;
  times.push_back(now);
}

void Governor::markFailed(const std::string& knob, double previous, Seconds changeTime) {
  auto it = knobs_.find(knob);
  if (it == knobs_.end()) return;
  KnobState& state = it->second;
  auto& times = changeTimes_[knob];
  if (auto t = std::find(times.rbegin(), times.rend(), changeTime); t != times.rend()) {
    times.erase(std::next(t).base());
  }
  if (state.lastChange != changeTime) return;  // a later change stands
  state.current = previous;
  state.lastChange = times.empty() ? -1 : times.back();
}

void Governor::setPending(const std::string& knob, bool pending) {
  if (auto it = knobs_.find(knob); it != knobs_.end()) it->second.pending = pending;
}

}  // namespace trimtab
