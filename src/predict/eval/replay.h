// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "predict/eval/trace.h"
#include "predict/predict_service.h"

namespace trimtab {

// How the evaluation runs trimtab's side. The baseline is fixed by the
// trace: predict_linear(x[window], horizon) > limit.
struct EvalConfig {
  Seconds trimtabWindow = 3 * 86400;  // history trimtab's eta may use
  double probability = 0.5;           // alarm: crossing within the horizon with at least this probability
  double alpha = 0.01;                // trend significance
  bool keepSteps = false;             // fill TraceResult::steps (for debugging and plots)
};

// One evaluation step, kept when EvalConfig::keepSteps.
struct StepRecord {
  Seconds t = 0;
  double value = 0;
  bool baselineAlarm = false;
  double baselinePredicted = 0;  // predict_linear value at t + horizon
  bool trimtabAlarm = false;
  EtaAnswer answer;
};

// One method's alarms on one trace. An alarm at t claims "the limit is
// reached within the horizon"; it is true when the crossing C satisfies
// t >= C - horizon.
struct MethodResult {
  std::optional<Seconds> leadTime;  // C - (first alarming step in [C - horizon, C)); crossing traces
  bool missed = false;              // crossing trace, no alarm in [C - horizon, C)
  int falseAlarms = 0;              // alarm episodes starting where no crossing follows within the horizon
  double falseAlarmsPerDay = 0;
  std::optional<Seconds> etaError;  // mean |ETA - (C - t)| over alarming steps in [C - horizon, C)
  int alarmSteps = 0;
  int steps = 0;
};

struct TraceResult {
  Trace trace;
  std::optional<Seconds> crossing;  // recomputed from the samples
  double days = 0;                  // evaluated span
  MethodResult trimtab, baseline;
  std::vector<StepRecord> steps;
};

// Replays a trace sample by sample. Both methods are evaluated at every
// sample from the first one with a full baseline window of history behind it
// until the crossing (or the end).
TraceResult replayTrace(const Trace& trace, const EvalConfig& config = {});

// The results as a Markdown table, one row per trace, plus the totals the
// targets are stated on.
std::string resultsTable(const std::vector<TraceResult>& results);

}  // namespace trimtab
