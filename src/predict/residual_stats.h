// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <span>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// Bins of an excursion profile (see ResidualStats::profiles).
inline constexpr std::size_t kProfileBins = 32;
// Most recent stretches kept as profiles.
inline constexpr std::size_t kMaxProfiles = 16;
using ExcursionProfile = std::array<double, kProfileBins>;

// How a model's residuals (observed - fitted, each at its time) behave: their
// scale, how far observations reach above the fitted mean, and how much
// autocorrelation inflates the uncertainty of anything estimated from them.
struct ResidualStats {
  double sd = 0;         // standard deviation
  double rho1 = 0;       // lag-1 autocorrelation
  double inflation = 1;  // variance factor n / n_effective for AR(1) residuals, >= 1
  // How far above the mean the samples reach at least once in a stretch as
  // long as the horizon, read from the series' own past: the largest
  // residual of every horizon-long stretch of the history (stretches ending
  // every quarter horizon), summarized by the deciles (10%..90%) of those
  // maxima; all equal to the largest residual when the history is shorter
  // than the horizon. Never negative. This is what makes "the first sample
  // at or above the limit" predictable: a noisy or sawtooth series crosses
  // before its mean does, and how much before depends on the shape of its
  // noise (white, autocorrelated, periodic), which the past shows.
  std::array<double, 9> excursions{};
  double excursion() const { return excursions[4]; }  // the median

  // The residuals of the most recent horizon-long stretches of the history
  // (one every quarter horizon, newest first), each as the largest residual
  // in each of kProfileBins equal parts of the stretch. Laid over the
  // model's future mean path they replay how the series' own noise went
  // above its mean, which tells when the samples would first reach a limit
  // (see estimateCrossing). A history shorter than the horizon gives one
  // profile, its parts beyond the history repeating the ones before.
  // Empty when the horizon is 0.
  std::vector<ExcursionProfile> profiles;
  Seconds profileHorizon = 0;
};

// Largest lag-1 autocorrelation trusted for the variance inflation: beyond
// it a residual is a trend the model missed, not noise, and inflating the
// variance further would hide real trends.
inline constexpr double kMaxRho1 = 0.9;

// Variance inflation n/n* for an AR(1) process with lag-1 correlation rho
// (Yue and Wang, 2004), for n samples. rho <= 0 gives 1.
double ar1VarianceFactor(double rho, double n);

// Lag-1 autocorrelation of a sequence (0 with fewer than 3 values).
double lag1Autocorrelation(std::span<const double> x);

// Summarizes residuals given as (time, residual) in time order; `horizon`
// is the block length of the excursion (<= 0: one block).
ResidualStats summarizeResiduals(std::span<const Point> residuals, Seconds horizon);

// The q-quantile of values (linear interpolation), 0 when empty. Reorders `values`.
double quantileInPlace(std::vector<double>& values, double q);

}  // namespace trimtab
