// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

namespace trimtab {

// A repeating cycle found in an evenly spaced series.
struct Season {
  std::size_t period = 0;  // in grid steps
  double acf = 0;          // autocorrelation at that lag
};

// Weakest autocorrelation peak accepted as a season.
inline constexpr double kMinSeasonAcf = 0.3;
inline constexpr std::size_t kMinSeasonPeriod = 3;

// Finds the season by autocorrelation of the linearly detrended values: the
// highest local maximum of the ACF after it first turns negative, among lags
// up to half the length (two full cycles must be visible). nullopt when no
// peak reaches minAcf.
std::optional<Season> detectSeason(std::span<const double> values, double minAcf = kMinSeasonAcf);

// Mean of the linearly detrended values at each phase of `period`; the
// pattern sums to zero. Index 0 is the phase of values[0].
std::vector<double> seasonalPattern(std::span<const double> values, std::size_t period);

// Autocorrelation of x at lags 0..maxLag (at most x.size() - 1), biased
// estimator (divided by the lag-0 sum); empty when x is constant.
std::vector<double> autocorrelation(std::span<const double> x, std::size_t maxLag);

// values minus a least-squares line over their index.
std::vector<double> detrend(std::span<const double> values);

}  // namespace trimtab
