// SPDX-License-Identifier: Apache-2.0
#include "policy/testing/case_runner.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/units.h"

namespace trimtab {
namespace {

// A knob given as a bare number (`db_pool_size = 10`) may move within
// [min(0, value), max(kShorthandKnobMax, value)].
constexpr double kShorthandKnobMax = 1e12;

struct Sample {
  const SeriesInput* series;
  double value;
};

// Sets up or changes a knob; fields a step leaves out keep their setting.
void applyKnob(Governor& governor, const KnobInput& k) {
  const KnobState* existing = governor.knob(k.name);
  KnobSpec spec;
  if (existing) {
    spec = existing->spec;
  } else {
    double v = k.value.value_or(0);
    spec.name = k.name;
    spec.integer = true;
    spec.min = std::min(0.0, v);
    spec.max = std::max(kShorthandKnobMax, v);
    spec.baseline = v;
  }
  if (k.integer) spec.integer = *k.integer;
  if (k.min) spec.min = *k.min;
  if (k.max) spec.max = *k.max;
  if (k.step) spec.maxStep = *k.step;
  if (k.baseline) spec.baseline = *k.baseline;
  if (k.cooldown) spec.cooldown = *k.cooldown;
  if (k.deadband) spec.deadband = *k.deadband;
  if (k.dryRun) spec.dryRun = *k.dryRun;
  if (k.unit) spec.unit = *k.unit;
  governor.addKnob(spec);
  if (k.value) governor.setCurrent(k.name, *k.value);
}

std::string stepLabel(std::size_t index, std::size_t count, Seconds t) {
  if (count == 1) return "";
  return "step " + std::to_string(index + 1) + " (t=" + formatShortest(t) + "): ";
}

// Every point of the case, by time; `values` shorthands (time NaN) land on
// the time of the step that gives them.
std::map<Seconds, std::vector<Sample>> timeline(const TestCase& c, const std::vector<Seconds>& times) {
  std::map<Seconds, std::vector<Sample>> out;
  auto add = [&out](const std::vector<SeriesInput>& series, Seconds at) {
    for (const SeriesInput& s : series) {
      for (const Point& p : s.points) out[std::isnan(p.t) ? at : p.t].push_back(Sample{&s, p.v});
    }
  };
  add(c.series, times.front());
  for (std::size_t i = 0; i < c.steps.size(); ++i) add(c.steps[i].series, times[i]);
  return out;
}

Seconds newestPoint(const std::vector<SeriesInput>& series) {
  Seconds newest = NAN;
  for (const SeriesInput& s : series) {
    for (const Point& p : s.points) {
      if (!std::isnan(p.t) && !(p.t <= newest)) newest = p.t;
    }
  }
  return newest;
}

// Samples of one time, in the case's order (its series, then each step's).
// A series given twice at one time takes the later value (a step's `values`
// over the case's `series`): the store keeps a series' first sample of a
// scrape, so the batch lists them last first.
void fillBatch(SampleBatch& batch, const std::vector<Sample>& samples) {
  batch.clear();
  std::vector<LabelView> views;
  for (auto it = samples.rbegin(); it != samples.rend(); ++it) {
    const Sample& s = *it;
    views.clear();
    for (const Label& l : s.series->labels) views.push_back(LabelView{l.name, l.value});
    batch.add(s.series->metric, views.data(), views.size(), s.series->type, s.value);
  }
}

}  // namespace

PolicyTestHost::PolicyTestHost(const ManualClock& clock) : clock_(clock), source_(store_.registerSource("test")) {}

std::vector<std::string> PolicyTestHost::knobNames() const {
  std::vector<std::string> out;
  for (const auto& [name, state] : governor_.knobs()) out.push_back(name);
  return out;
}

CaseResult runCase(const std::string& policyFile, const TestCase& c, TestFile& tests, LineObserver* coverage) {
  CaseResult result;
  if (c.predictions) {
    result.message =
        "predictions: canned answers are not supported yet; ctx.predict answers from the case's series "
        "(give the points that produce the prediction you want)";
    return result;
  }
  ManualClock clock;
  PolicyTestHost host(clock);
  PolicyEngine engine(PolicyLimits{}, host);
  engine.setLineObserver(coverage);
  for (const KnobInput& k : c.knobs) applyKnob(host.governor(), k);

  PolicySpec spec;
  spec.file = policyFile;
  spec.params = c.params;
  Status added = engine.add(spec);
  if (!added.ok()) {
    result.message = "the policy does not load: " + added.error().message;
    return result;
  }
  const std::string name = engine.names().front();
  const Seconds interval = engine.interval(name);

  std::vector<Seconds> times;
  Seconds first = c.now ? *c.now : newestPoint(c.series);
  if (std::isnan(first)) first = 0;
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const TestStep& step = c.steps[i];
    Seconds t = step.at ? *step.at : i == 0 ? first + step.advance.value_or(0) : times.back() + step.advance.value_or(interval);
    if (!times.empty() && t < times.back()) {
      result.message = stepLabel(i, c.steps.size(), t) + "goes back in time (the step before ticked at t=" +
                       formatShortest(times.back()) + ")";
      return result;
    }
    times.push_back(t);
  }

  // The case's points are what the store holds: keep all of them, as if
  // every metric were a declared input with a window covering the case.
  std::map<Seconds, std::vector<Sample>> points = timeline(c, times);
  std::set<std::string> metrics;
  for (const auto& [t, samples] : points) {
    for (const Sample& s : samples) metrics.insert(s.series->metric);
  }
  if (!points.empty()) {
    Seconds span = std::max(times.back(), points.rbegin()->first) - points.begin()->first + 1;
    for (const std::string& m : metrics) host.store().retain(m, span);
  }

  SampleBatch batch;
  auto next = points.begin();
  for (std::size_t i = 0; i < c.steps.size(); ++i) {
    const TestStep& step = c.steps[i];
    const Seconds now = times[i];
    for (const KnobInput& k : step.knobs) applyKnob(host.governor(), k);
    for (; next != points.end() && next->first <= now; ++next) {
      clock.set(next->first);
      fillBatch(batch, next->second);
      host.ingest(batch, next->first);
    }
    clock.set(now);
    PolicyTickResult tick = engine.tick(name, now);
    std::vector<Decision> decisions;
    if (tick.status.ok()) decisions = host.governor().decide(tick.proposals, now);
    std::vector<std::string> problems = checkTick(step.expect, tick, decisions, host, engine, name, tests);
    if (!problems.empty()) {
      result.message = stepLabel(i, c.steps.size(), now);
      for (std::size_t p = 0; p < problems.size(); ++p) result.message += (p ? "; " : "") + problems[p];
      return result;
    }
  }
  result.passed = true;
  return result;
}

}  // namespace trimtab
