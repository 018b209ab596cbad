// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/metric.h"
#include "common/result.h"

namespace trimtab::sim {

struct RecordedSample {
  Seconds t = 0;
  std::string key;  // canonical series key: name{a="1",b="2"}
  double value = 0;
  MetricType type = MetricType::Unknown;
};

// Recorded series for `trimtab replay`, in time order (stable: samples of one
// time keep their file order).
//
// Formats, recognised by content:
// - trimtab's recording (JSON lines, written by `trimtab sim --record`): one
//   object per line, {"t": 12.5, "key": "db_pool_size{pool=\"main\"}",
//   "value": 20, "type": "gauge"}; `type` optional; value null = NaN.
// - long CSV: header `timestamp,metric,value` (also time/series/key/name for
//   the first two), one sample per row; `metric` is a series key as Prometheus
//   prints it, e.g. up{job="api", instance="a:9100"}.
// - wide CSV (Grafana's "series joined by time" export of a range query):
//   header `time,<series key>,<series key>,...`, one row per time, empty cells
//   skipped.
// Times are Unix seconds, milliseconds (values above 1e11), or ISO 8601 UTC
// ("2024-05-01T12:00:00Z", "2024-05-01 12:00:00", optional fraction and
// offset). Values are numbers, NaN, +Inf/-Inf. `#` lines and blank lines are
// skipped. Errors name the file and line.
struct Recording {
  std::string format;  // "jsonl", "csv-long", "csv-wide"
  std::vector<RecordedSample> samples;
  std::size_t series = 0;
  Seconds start = 0, end = 0;
  Seconds spacing = 0;  // median time between two samples of one series (0: one sample each)
};

inline constexpr std::size_t kMaxRecordingSamples = 50'000'000;

Result<Recording> parseRecording(std::string_view text, const std::string& name);
Result<Recording> loadRecording(const std::string& file);

// "name{b="2",a="1"}" or with spaces after commas -> canonical key; Error
// when it is not a series key.
Result<std::string> canonicalSeriesKey(std::string_view text);
// Unix seconds from a number or an ISO 8601 date-time.
Result<Seconds> parseTimestamp(std::string_view text);

}  // namespace trimtab::sim
