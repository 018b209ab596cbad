// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "predict/estimator.h"

namespace trimtab {

// "holt_winters": additive Holt-Winters (level + trend + season) on the
// series resampled to a regular grid, with the season length found by
// autocorrelation (see detectSeason); for load with daily or hourly cycles.
// Fails when no season is visible (fewer than two cycles, or too weak).
// slope() is the deseasonalized trend.
class HoltWintersEstimator final : public Estimator {
 public:
  explicit HoltWintersEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<HoltWintersEstimator>(options);
  }

  std::string_view name() const override { return "holt_winters"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Seasonal ? 0 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return trend_ / step_; }
  Seconds period() const { return static_cast<double>(season_.size()) * step_; }
  const std::vector<double>& seasonal() const { return season_; }

 private:
  double seasonalAt(double index) const;  // grid index (fractional), any sign
  double level_ = 0, trend_ = 0;
  std::vector<double> season_;  // season_[i % m] is the offset at grid index i
  double alpha_ = 0, beta_ = 0, gamma_ = 0;
  double sigma_ = 0;
  Seconds end_ = 0, step_ = 1;
  std::size_t last_ = 0;  // grid index of end_
};

}  // namespace trimtab
