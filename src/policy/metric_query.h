// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "controller/series_store.h"

namespace trimtab {

// How the results of several matching series combine into one number.
enum class Aggregation { Sum, Avg, Max, Min };
std::optional<Aggregation> parseAggregation(std::string_view name);  // "sum", "avg", "max", "min"
const char* aggregationName(Aggregation agg);

// One read a policy asks for: a metric, label matchers and, for windowed
// reads, a duration ending at the tick's time.
struct MetricQuery {
  std::string metric;
  std::vector<LabelMatcher> matchers;  // sorted by label name, for stable descriptions
  Seconds window = 0;
  Aggregation agg = Aggregation::Sum;
  double q = 0;  // quantile()

  // name{a="1",b!="2",c=~"x.*",d!~"y"}: PromQL syntax, for the journal.
  std::string selector() const;
};

// rate(x{..}[5m]), max(x{..}), quantile(0.99, x[5m]): how the journal shows a
// read made by the ctx function `function` ("value", "rate", "window", ...).
std::string describeRead(const MetricQuery& q, const char* function);

// The outcome of one read. `missing`: no matching series, or no usable data
// (NaN samples count as no data); `stale`: some matching series is stale (its
// data is still used).
struct ReadOutcome {
  double value = NAN;
  bool stale = false;
  bool missing = true;
  std::size_t series = 0;  // matching series
};

// Evaluates policy reads against a store. When several series match: value,
// rate and increase combine the per-series results with `agg` (series without
// a result are left out); window and quantile pool the points of all of them.
// Keeps scratch buffers between calls. Thread safety: none.
class MetricReader {
 public:
  ReadOutcome value(const SeriesStore& store, const MetricQuery& query);
  ReadOutcome rate(const SeriesStore& store, const MetricQuery& query, Seconds now);
  ReadOutcome increase(const SeriesStore& store, const MetricQuery& query, Seconds now);
  ReadOutcome quantile(const SeriesStore& store, const MetricQuery& query, Seconds now);
  // `value` of the outcome is the average; `stats` gets everything.
  ReadOutcome window(const SeriesStore& store, const MetricQuery& query, Seconds now, WindowStats& stats);
  // The matching series (valid until the next call).
  const std::vector<SeriesId>& select(const SeriesStore& store, const MetricQuery& query);

 private:
  template <class PerSeries>
  ReadOutcome combine(const SeriesStore& store, const MetricQuery& query, PerSeries&& perSeries);
  void markStale(const SeriesStore& store, ReadOutcome& out) const;

  std::vector<SeriesId> ids_;
  std::vector<Point> points_;
  std::vector<double> values_;
};

}  // namespace trimtab
