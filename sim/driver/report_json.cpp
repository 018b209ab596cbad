// SPDX-License-Identifier: Apache-2.0
#include "report_json.h"

#include <map>

#include "number_format.h"

namespace trimtab::sim {

namespace {

// A small writer for objects and arrays with a fixed layout: one key per
// line, two-space indents.
class JsonOut {
 public:
  void open(const std::string& key, char bracket) {
    prefix(key);
    out_ += bracket;
    first_ = true;
    ++depth_;
  }
  void close(char bracket) {
    --depth_;
    if (!first_) newline();
    out_ += bracket;
    first_ = false;
  }
  void number(const std::string& key, double v) { raw(key, jsonNumber(v)); }
  void string(const std::string& key, const std::string& v) { raw(key, jsonString(v)); }
  void boolean(const std::string& key, bool v) { raw(key, v ? "true" : "false"); }
  void raw(const std::string& key, const std::string& v) {
    prefix(key);
    out_ += v;
    first_ = false;
  }
  std::string take() { return std::move(out_) + "\n"; }

 private:
  void prefix(const std::string& key) {
    if (depth_ > 0) {
      if (!first_) out_ += ',';
      newline();
    }
    if (!key.empty()) out_ += jsonString(key) + ": ";
  }
  void newline() {
    out_ += '\n';
    out_.append(static_cast<std::size_t>(depth_) * 2, ' ');
  }
  std::string out_;
  int depth_ = 0;
  bool first_ = true;
};

void writeScores(JsonOut& j, const std::string& key, const Scores& s) {
  j.open(key, '{');
  for (const auto& n : namedScores(s)) j.number(n.key, n.value);
  j.open("knobs", '{');
  for (const auto& [name, k] : s.knobs) {
    j.open(name, '{');
    j.number("changes", k.changes);
    j.number("flaps", k.flaps);
    j.close('}');
  }
  j.close('}');
  j.close('}');
}

void writeRun(JsonOut& j, const RunResult& r) {
  j.open("", '{');
  j.number("seed", static_cast<double>(r.seed));
  writeScores(j, "scores", r.scores);
  j.open("controller", '{');
  j.number("ticks", static_cast<double>(r.stats.ticks));
  j.number("scrapes_ok", static_cast<double>(r.stats.scrapesOk));
  j.number("scrapes_failed", static_cast<double>(r.stats.scrapesFailed));
  j.number("policy_ticks", static_cast<double>(r.stats.policyTicks));
  j.number("policy_errors", static_cast<double>(r.stats.policyErrors));
  j.number("actuations_ok", static_cast<double>(r.stats.actuationsOk));
  j.number("actuations_failed", static_cast<double>(r.stats.actuationsFailed));
  j.open("decisions", '{');
  for (const auto& [verdict, n] : r.stats.decisionsByVerdict) j.number(verdict, static_cast<double>(n));
  j.close('}');
  j.close('}');
  std::map<std::string, double> events;
  for (const auto& e : r.events) ++events[e.source + ":" + e.what];
  j.open("events", '{');
  for (const auto& [what, n] : events) j.number(what, n);
  j.close('}');
  j.number("events_dropped", static_cast<double>(r.eventsDropped));
  if (!r.perturbations.empty()) {
    j.open("perturbations", '[');
    for (const auto& p : r.perturbations) {
      j.open("", '{');
      j.string("path", p.path);
      j.number("factor", p.factor);
      j.number("value", p.value);
      j.close('}');
    }
    j.close(']');
  }
  j.close('}');
}

}  // namespace

std::string summaryJson(const SimReport& report) {
  const Scenario& s = report.scenario;
  JsonOut j;
  j.open("", '{');
  j.open("scenario", '{');
  j.string("name", s.name);
  j.string("file", s.file);
  j.string("description", s.description);
  j.number("duration_seconds", s.duration);
  j.number("step_seconds", s.step);
  j.number("slo_latency_p95_seconds", s.sloLatencyP95);
  j.number("flap_window_seconds", s.flapWindow);
  j.string("primary_score", s.primaryScore);
  j.number("sample_seconds", s.sampleInterval());
  j.close('}');
  j.open("seeds", '[');
  for (auto seed : report.seeds) j.number("", static_cast<double>(seed));
  j.close(']');
  j.boolean("perturb", report.perturb);
  j.open("configs", '[');
  for (std::size_t c = 0; c < report.configs.size(); ++c) {
    const ScenarioConfig& config = report.configs[c];
    j.open("", '{');
    j.string("name", config.name);
    j.string("description", config.description);
    j.boolean("dry_run", config.dryRun);
    j.open("knobs", '{');
    for (const auto& [knob, v] : config.knobValues) j.number(knob, v);
    j.close('}');
    j.open("policies", '[');
    for (const auto& p : config.policies) j.string("", p.file);
    j.close(']');
    if (c < report.means.size()) writeScores(j, "mean", report.means[c]);
    j.open("runs", '[');
    for (const auto& run : report.runs[c]) writeRun(j, run);
    j.close(']');
    j.close('}');
  }
  j.close(']');
  j.close('}');
  return j.take();
}

std::string decisionsJsonLines(const RunResult& run) {
  std::string out;
  for (const auto& d : run.decisions) out += toJsonLine(d) + "\n";
  return out;
}

}  // namespace trimtab::sim
