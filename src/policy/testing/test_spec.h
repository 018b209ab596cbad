// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/metric.h"
#include "common/result.h"
#include "policy/policy_engine.h"
#include "policy/testing/lua_value.h"

namespace trimtab {

// What a policy test file (NAME_test.lua) describes, as plain structs. The
// file format is in docs/policy-api.md, "Testing policies".

// One input series: points from the file itself or from a CSV file.
struct SeriesInput {
  std::string metric;
  Labels labels;
  MetricType type = MetricType::Gauge;
  std::vector<Point> points;
};

// A knob as a case sets it up (or changes it at a step). Unset fields keep
// their defaults (or, at a step, the knob's previous setting).
struct KnobInput {
  std::string name;
  std::optional<double> value, min, max, step, baseline, cooldown, deadband;
  std::optional<bool> integer, dryRun;
  std::optional<std::string> unit;
};

// An expected proposal: knob and either a value, a [min, max] range or any
// value; optionally a Lua pattern its reason must match.
struct ExpectedProposal {
  std::string knob;
  std::optional<double> value;
  std::optional<double> min, max;
  std::string reason;  // Lua pattern; empty: any
};

struct Expectation {
  std::optional<std::vector<ExpectedProposal>> proposals;  // exactly these (by knob)
  bool noProposal = false;
  std::optional<LuaValue> state;   // subset of ctx.state after the tick
  std::vector<std::string> stateNil;  // keys of ctx.state that must be nil
  std::vector<std::string> logs;   // each pattern must match some log line
  std::optional<std::string> error;  // the tick must fail, its message matching this pattern
  std::map<std::string, double> knobs;  // knob values after the governor decided
  int line = 0;
};

// One tick: at an absolute time, or `advance` after the previous tick.
struct TestStep {
  std::optional<Seconds> at;
  std::optional<Seconds> advance;
  std::vector<SeriesInput> series;   // more points (absolute times)
  std::vector<KnobInput> knobs;      // changes before the tick
  Expectation expect;
  int line = 0;
};

struct TestCase {
  std::string name;
  int line = 0;  // where the case is written (best effort), for messages
  std::optional<Seconds> now;  // time of the first tick; default: the newest point, else 0
  std::map<std::string, ParamValue> params;
  std::vector<SeriesInput> series;
  std::vector<KnobInput> knobs;
  std::vector<TestStep> steps;  // at least one
  // Reserved for canned ctx.predict answers: a case that gives
  // `predictions` fails with a message saying so (ctx.predict answers from
  // the case's series; PolicyTestHost::predict is the hook for a fake).
  std::optional<LuaValue> predictions;
};

// Reads the list a test file returned. CSV paths are relative to `dir`.
// `text` is the file's source, to name the line of a problem: the line of
// the case's `name = "..."` and of the offending key after it (best effort:
// Lua tables carry no lines). Errors read "file:line: message".
Result<std::vector<TestCase>> parseTestCases(const LuaValue& returned, const std::string& file,
                                             const std::string& text, const std::string& dir);

// Points of a CSV file of `time,value` lines (a header line, blank lines and
// `#` comments are skipped). At most kMaxCsvBytes.
inline constexpr std::size_t kMaxCsvBytes = 4u << 20;
Result<std::vector<Point>> readCsvPoints(const std::string& path);

}  // namespace trimtab
