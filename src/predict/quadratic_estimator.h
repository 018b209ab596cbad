// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <Eigen/Dense>

#include "predict/estimator.h"

namespace trimtab {

// "quadratic": least-squares parabola, for growth that accelerates.
class QuadraticEstimator final : public Estimator {
 public:
  explicit QuadraticEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<QuadraticEstimator>(options);
  }

  std::string_view name() const override { return "quadratic"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 5 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds t) const override;
  // Coefficients of value = c0 + c1 x + c2 x², x = (t - lastTime()) / scale().
  const Eigen::Vector3d& coefficients() const { return coef_; }
  double scale() const { return scale_; }

 private:
  Eigen::Vector3d coef_ = Eigen::Vector3d::Zero();
  Eigen::Matrix3d covUnit_ = Eigen::Matrix3d::Zero();  // (XᵀX)⁻¹
  double sigma2_ = 0;
  double scale_ = 1;
};

}  // namespace trimtab
