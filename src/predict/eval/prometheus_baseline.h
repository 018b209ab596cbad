// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>

#include "common/metric.h"

namespace trimtab {

// Prometheus' predict_linear(x[range], duration) evaluated at time `at`, as
// promql/functions.go computes it: a least-squares line over the samples of
// the range with x measured in seconds from `at` (so the intercept is the
// value at the evaluation time), Kahan-compensated sums, slope 0 for a
// constant series; the result is intercept + slope * duration.
struct PredictLinear {
  bool ok = false;       // false with fewer than 2 samples (Prometheus drops the element)
  double slope = 0;      // per second
  double intercept = 0;  // value at `at`
  double value = 0;      // predicted at at + duration
};

PredictLinear predictLinear(std::span<const Point> range, Seconds at, Seconds duration);

// The samples a range selector x[range] sees at `at` in Prometheus 2.x:
// timestamps in [at - range, at]. REQUIRES: points sorted by time.
std::span<const Point> rangeSelect(std::span<const Point> points, Seconds at, Seconds range);

}  // namespace trimtab
