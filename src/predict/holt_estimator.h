// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "predict/estimator.h"

namespace trimtab {

// Σ_{j=1}^{m} (1 + jβ)² for real m >= 0: the growth of a smoothing model's
// forecast variance with the horizon (in steps), used by Holt and
// Holt-Winters.
double smoothingVarianceSum(double m, double beta);

// Steps ahead a smoothing model's constants are tuned for: the horizon in
// grid steps, at least 1, at most a third of the n grid points.
std::size_t tuningLead(Seconds horizon, Seconds step, std::size_t n);

// "holt": Holt's linear exponential smoothing (level + trend), on the
// series resampled to a regular grid (see regularize). The smoothing
// constants are chosen from a small grid by the squared error of forecasts
// made options.horizon ahead (see tuningLead).
class HoltEstimator final : public Estimator {
 public:
  explicit HoltEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<HoltEstimator>(options);
  }

  std::string_view name() const override { return "holt"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 4 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return trend_ / step_; }
  double alpha() const { return alpha_; }
  double beta() const { return beta_; }

 private:
  double level_ = 0, trend_ = 0;  // trend per grid step
  double alpha_ = 0, beta_ = 0;
  double sigma_ = 0;  // one-step-ahead error sd
  Seconds end_ = 0, step_ = 1;
};

}  // namespace trimtab
