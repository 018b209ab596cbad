// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "predict/estimator.h"

namespace trimtab {

// "theil_sen": the median of pairwise slopes, which a minority of outliers
// cannot move; the level is the median of value - slope * time. The slope's
// standard error comes from its rank-based confidence interval (the
// Mann-Kendall variance). Windows longer than kMaxTheilSenPoints use that
// many evenly spaced points for the slopes, bounding the cost. A candidate
// for every shape.
class TheilSenEstimator final : public Estimator {
 public:
  static constexpr std::size_t kMaxTheilSenPoints = 96;

  explicit TheilSenEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<TheilSenEstimator>(options);
  }

  std::string_view name() const override { return "theil_sen"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 1 : 2; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return slope_; }
  double slopeSe() const { return slopeSe_; }

 private:
  double slope_ = 0;
  double level_ = 0;  // at tMid_
  Seconds tMid_ = 0;
  double slopeSe_ = 0;
  double levelSe_ = 0;
};

}  // namespace trimtab
