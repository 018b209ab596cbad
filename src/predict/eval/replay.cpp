// SPDX-License-Identifier: Apache-2.0
#include "predict/eval/replay.h"

#include <cmath>
#include <cstdio>
#include <limits>
#include <span>

#include "predict/eval/prometheus_baseline.h"
#include "predict/predict_service.h"

namespace trimtab {

namespace {

constexpr double kSecondsPerDay = 86400;

struct Step {
  Seconds t;
  bool alarm;
  double eta;  // seconds from t; +inf when the method gives none
};

MethodResult score(const std::vector<Step>& steps, std::optional<Seconds> crossing, Seconds horizon, double days) {
  MethodResult r;
  r.steps = static_cast<int>(steps.size());
  bool prev = false;
  double etaSum = 0;
  int etaN = 0;
  for (const Step& s : steps) {
    bool inWindow = crossing && s.t >= *crossing - horizon;
    if (s.alarm) {
      ++r.alarmSteps;
      if (!prev && !inWindow) ++r.falseAlarms;
      if (inWindow) {
        if (!r.leadTime) r.leadTime = *crossing - s.t;
        if (std::isfinite(s.eta)) {
          etaSum += std::abs(s.eta - (*crossing - s.t));
          ++etaN;
        }
      }
    }
    prev = s.alarm;
  }
  r.missed = crossing && !r.leadTime;
  r.falseAlarmsPerDay = days > 0 ? r.falseAlarms / days : 0;
  if (etaN) r.etaError = etaSum / etaN;
  return r;
}

std::string minutes(std::optional<Seconds> s) {
  if (!s) return "-";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", *s / 60);
  return buf;
}

}  // namespace

TraceResult replayTrace(const Trace& trace, const EvalConfig& config) {
  TraceResult out;
  out.trace = trace;
  out.crossing = firstCrossing(trace.points, trace.limit);
  std::span<const Point> all(trace.points);
  Seconds start = all.front().t + trace.window;
  Seconds end = out.crossing ? *out.crossing : all.back().t + 1;

  PredictService service;
  PredictOptions opts;
  opts.window = config.trimtabWindow;
  opts.horizon = trace.horizon;
  opts.alpha = config.alpha;
  std::vector<Step> ours, base;
  std::size_t lo = 0;
  for (std::size_t i = 0; i < all.size(); ++i) {
    Seconds t = all[i].t;
    if (t < start) continue;
    if (t >= end) break;
    // Baseline: the alerting rule predict_linear(x[window], horizon) > limit.
    PredictLinear pl = predictLinear(rangeSelect(all.first(i + 1), t, trace.window), t, trace.horizon);
    double baseEta = pl.ok && pl.slope > 0 ? std::max(0.0, (trace.limit - pl.intercept) / pl.slope)
                                           : std::numeric_limits<double>::infinity();
    base.push_back({t, pl.ok && pl.value > trace.limit, baseEta});
    // trimtab: the store's window as a policy would see it.
    while (all[lo].t < t - config.trimtabWindow) ++lo;
    auto answer = service.eta("trace", all.subspan(lo, i + 1 - lo), trace.limit, opts);
    Step s{t, false, std::numeric_limits<double>::infinity()};
    if (answer.ok()) {
      const EtaAnswer& a = *answer;
      bool crossing = a.status == EtaStatus::Crossing || a.status == EtaStatus::Already;
      s.alarm = crossing && a.probability >= config.probability;
      if (crossing) s.eta = std::max(0.0, a.asOf + a.seconds - t);
    }
    ours.push_back(s);
    if (config.keepSteps) {
      out.steps.push_back({t, all[i].v, base.back().alarm, pl.value, s.alarm, answer.ok() ? *answer : EtaAnswer{}});
    }
  }
  Seconds last = ours.empty() ? start : ours.back().t;
  out.days = std::max(0.0, last - start) / kSecondsPerDay;
  out.trimtab = score(ours, out.crossing, trace.horizon, out.days);
  out.baseline = score(base, out.crossing, trace.horizon, out.days);
  return out;
}

std::string resultsTable(const std::vector<TraceResult>& results) {
  std::string s;
  s += "| trace | kind | source | crosses | lead trimtab (min) | lead baseline (min) | missed t/b | "
       "false alarms t/b | false/day t/b | ETA error t/b (min) |\n";
  s += "|---|---|---|---|---|---|---|---|---|---|\n";
  char buf[512];
  int falseT = 0, falseB = 0, missedT = 0, missedB = 0, cycleT = 0, cycleB = 0;
  for (const TraceResult& r : results) {
    std::snprintf(
        buf, sizeof buf, "| %s | %s | %s | %s | %s | %s | %d/%d | %d/%d | %.1f/%.1f | %s/%s |\n", r.trace.name.c_str(),
        r.trace.kind.c_str(), r.trace.source.c_str(), r.crossing ? (minutes(*r.crossing) + " min").c_str() : "never",
        minutes(r.trimtab.leadTime).c_str(), minutes(r.baseline.leadTime).c_str(), r.trimtab.missed ? 1 : 0,
        r.baseline.missed ? 1 : 0, r.trimtab.falseAlarms, r.baseline.falseAlarms, r.trimtab.falseAlarmsPerDay,
        r.baseline.falseAlarmsPerDay, minutes(r.trimtab.etaError).c_str(), minutes(r.baseline.etaError).c_str());
    s += buf;
    falseT += r.trimtab.falseAlarms;
    falseB += r.baseline.falseAlarms;
    missedT += r.trimtab.missed;
    missedB += r.baseline.missed;
    if (r.trace.kind == "sawtooth" || r.trace.kind == "diurnal") {
      cycleT += r.trimtab.falseAlarms;
      cycleB += r.baseline.falseAlarms;
    }
  }
  std::snprintf(buf, sizeof buf, "| **total** | | | | | | %d/%d | %d/%d | | |\n", missedT, missedB, falseT, falseB);
  s += buf;
  std::snprintf(buf, sizeof buf, "| **sawtooth + diurnal** | | | | | | | %d/%d | | |\n", cycleT, cycleB);
  s += buf;
  return s;
}

}  // namespace trimtab
