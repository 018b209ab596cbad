// SPDX-License-Identifier: Apache-2.0
#include "predict/quadratic_estimator.h"

#include <cmath>
#include <vector>

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "quadratic", QuadraticEstimator::create);

namespace {
constexpr std::size_t kMinQuadraticPoints = 4;
}

Status QuadraticEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  if (pts.size() < kMinQuadraticPoints) return makeError("quadratic: needs at least 4 points");
  lastTime_ = pts.back().t;
  // Time scaled to [-1, 0] keeps XᵀX well conditioned whatever the units.
  scale_ = pts.back().t - pts.front().t;
  if (!(scale_ > 0)) return makeError("quadratic: points do not spread in time");
  double y0 = pts.back().v;
  Eigen::Matrix3d xtx = Eigen::Matrix3d::Zero();
  Eigen::Vector3d xty = Eigen::Vector3d::Zero();
  for (const Point& p : pts) {
    double x = (p.t - lastTime_) / scale_;
    Eigen::Vector3d z(1, x, x * x);
    xtx.noalias() += z * z.transpose();
    xty.noalias() += z * (p.v - y0);
  }
  Eigen::LDLT<Eigen::Matrix3d> ldlt(xtx);
  if (ldlt.info() != Eigen::Success || !ldlt.isPositive() || ldlt.vectorD().minCoeff() <= 1e-12 * xtx.trace()) {
    return makeError("quadratic: too few distinct times");
  }
  coef_ = ldlt.solve(xty);
  coef_(0) += y0;
  covUnit_ = ldlt.solve(Eigen::Matrix3d::Identity());
  if (!coef_.allFinite() || !covUnit_.allFinite()) return makeError("quadratic: ill-conditioned fit");
  std::vector<Point> r;
  r.reserve(pts.size());
  double rss = 0;
  for (const Point& p : pts) {
    double res = p.v - at(p.t).mean;
    r.push_back({p.t, res});
    rss += res * res;
  }
  sigma2_ = rss / static_cast<double>(pts.size() - 3);
  setResiduals(r);
  return Status::success();
}

LevelForecast QuadraticEstimator::at(Seconds t) const {
  double x = (t - lastTime_) / scale_;
  Eigen::Vector3d z(1, x, x * x);
  double var = sigma2_ * z.dot(covUnit_ * z) * residuals_.inflation;
  return {coef_.dot(z), std::sqrt(std::max(var, 0.0))};
}

double QuadraticEstimator::slope(Seconds t) const {
  double x = (t - lastTime_) / scale_;
  return (coef_(1) + 2 * coef_(2) * x) / scale_;
}

}  // namespace trimtab
