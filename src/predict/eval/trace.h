// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/metric.h"
#include "common/result.h"

namespace trimtab {

// A labelled series for the prediction evaluation (bench/traces/*.csv).
//
// File format: `# key: value` header lines, then a `t,v` line, then one
// `seconds,value` row per sample. Keys: name, kind (leak | sawtooth |
// diurnal | plateau | burst), source (synthetic | recorded), description,
// unit, limit (the level that must not be reached), crosses_at (first time
// the series reaches the limit, or `never`), window and horizon (seconds:
// the predict_linear range and the alarm horizon). Unknown keys are kept.
struct Trace {
  std::string name, kind, source, description, unit;
  double limit = 0;
  std::optional<Seconds> crossesAt;  // nullopt: never
  Seconds window = 3600;
  Seconds horizon = 4 * 3600;
  std::vector<Point> points;
};

// Parses a trace; errors name the file and line.
Result<Trace> parseTrace(const std::string& text, const std::string& fileName);
Result<Trace> loadTrace(const std::string& path);
// The *.csv files of a directory, sorted by name.
std::vector<std::string> traceFiles(const std::string& directory);

// First time the series is at or above `limit`, or nullopt.
std::optional<Seconds> firstCrossing(const std::vector<Point>& points, double limit);

}  // namespace trimtab
