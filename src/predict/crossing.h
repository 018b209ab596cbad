// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <limits>

#include "common/metric.h"
#include "predict/estimator.h"

namespace trimtab {

// When a fitted model's samples reach a limit. Within the horizon, each of
// the series' past stretches of residuals (ResidualStats::profiles) is laid
// over the model's future mean path: the fraction of those replays that
// reach the limit (with the mean's standard error) is the probability, and
// the median of their first crossing times is the ETA. Beyond the horizon,
// the mean plus the typical horizon-long excursion
// (ResidualStats::excursion()) gives a rougher ETA.
struct CrossingEstimate {
  static constexpr double kNever = std::numeric_limits<double>::infinity();
  bool found = false;      // within the search range
  Seconds eta = kNever;    // seconds from `now`
  Seconds low = kNever;    // early end of the interval (mean + z·se)
  Seconds high = kNever;   // late end (mean - z·se); kNever when that never crosses
  double probability = 0;  // of reaching the limit within the horizon
};

// Searched this many horizons ahead at most.
inline constexpr double kCrossingSearchHorizons = 16;

// REQUIRES: a fitted estimator; horizon > 0; 0 < level < 1 (interval coverage).
CrossingEstimate estimateCrossing(const Estimator& model, Seconds now, double limit, Seconds horizon, double level);

}  // namespace trimtab
