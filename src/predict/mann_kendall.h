// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <span>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// Mann-Kendall trend test on values in time order.
struct MannKendallResult {
  std::size_t n = 0;
  double s = 0;          // Σ_{i<j} sign(x_j - x_i)
  double varS = 0;       // variance of S under no trend, ties-corrected, times the inflation
  double z = 0;          // continuity-corrected normal score
  double tau = 0;        // Kendall's tau-a: s / (n(n-1)/2)
  double pTwoSided = 1;  // no trend
  double pUp = 1;        // one-sided: no upward trend
  double pDown = 1;      // one-sided: no downward trend
};

// Largest input the test runs on unchanged; longer inputs are reduced
// deterministically to this many bucket medians by trendSample().
inline constexpr std::size_t kMaxMannKendallPoints = 256;

// `varianceFactor` (>= 1) inflates Var(S) for serially correlated data
// (see ar1VarianceFactor). Fewer than 3 values: no evidence (p = 1).
MannKendallResult mannKendall(std::span<const double> values, double varianceFactor = 1);

// Values of `points` for a trend test: all of them when there are at most
// maxPoints, else the medians of maxPoints equal-count consecutive buckets.
std::vector<double> trendSample(std::span<const Point> points, std::size_t maxPoints = kMaxMannKendallPoints);

}  // namespace trimtab
