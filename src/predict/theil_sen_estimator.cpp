// SPDX-License-Identifier: Apache-2.0
#include "predict/theil_sen_estimator.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "predict/mann_kendall.h"
#include "predict/normal.h"

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "theil_sen", TheilSenEstimator::create);

namespace {
constexpr double kCiLevel = 0.95;  // of the rank interval the standard error is read from

double nthValue(std::vector<double>& v, std::size_t k) {
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
  return v[k];
}
}  // namespace

Status TheilSenEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  std::size_t n = pts.size();
  if (n < kMinFitPoints) return makeError("theil_sen: needs at least 3 points");
  if (!(pts.back().t > pts.front().t)) return makeError("theil_sen: points do not spread in time");
  // Evenly spaced indices (deterministic) when the window is long.
  std::size_t m = std::min(n, kMaxTheilSenPoints);
  std::vector<Point> sub(m);
  for (std::size_t k = 0; k < m; ++k) sub[k] = pts[m == 1 ? 0 : k * (n - 1) / (m - 1)];
  std::vector<double> slopes;
  slopes.reserve(m * (m - 1) / 2);
  for (std::size_t i = 0; i + 1 < m; ++i) {
    for (std::size_t j = i + 1; j < m; ++j) slopes.push_back((sub[j].v - sub[i].v) / (sub[j].t - sub[i].t));
  }
  std::size_t ns = slopes.size();
  std::size_t mid = ns / 2;
  slope_ = nthValue(slopes, mid);
  if (ns % 2 == 0)
    slope_ = (slope_ + *std::max_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(mid))) / 2;

  // The level is the median of value - slope * time over the same
  // subsample (as robust, and bounded like the slopes).
  tMid_ = sub[m / 2].t;
  std::vector<double> level(m);
  for (std::size_t k = 0; k < m; ++k) level[k] = sub[k].v - slope_ * (sub[k].t - tMid_);
  level_ = nthValue(level, m / 2);

  std::vector<Point> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = {pts[i].t, pts[i].v - at(pts[i].t).mean};
  setResiduals(r);

  // Rank interval of the slope: C = z * sqrt(Var S), ranks (N -+ C) / 2.
  std::vector<double> subValues(m);
  for (std::size_t k = 0; k < m; ++k) subValues[k] = sub[k].v;
  MannKendallResult mk = mannKendall(subValues, residuals_.inflation);
  double z = normalQuantile(0.5 + kCiLevel / 2);
  double c = z * std::sqrt(mk.varS);
  double dn = static_cast<double>(ns);
  auto rank = [&](double x) { return static_cast<std::size_t>(std::clamp(x, 0.0, dn - 1)); };
  // nth_element left `slopes` partitioned around the median: each end of
  // the interval is searched in its own half.
  std::size_t rlo = std::min(rank(std::floor((dn - c) / 2)), mid);
  std::size_t rhi = std::max(rank(std::ceil((dn + c) / 2)), mid);
  std::nth_element(slopes.begin(), slopes.begin() + static_cast<std::ptrdiff_t>(rlo),
                   slopes.begin() + static_cast<std::ptrdiff_t>(mid));
  double lo = rlo == mid ? slopes[mid] : slopes[rlo];
  std::nth_element(slopes.begin() + static_cast<std::ptrdiff_t>(mid) + 1,
                   slopes.begin() + static_cast<std::ptrdiff_t>(rhi), slopes.end());
  double hi = slopes[rhi];
  slopeSe_ = std::max(hi - lo, 0.0) / (2 * z);
  levelSe_ = residuals_.sd * std::sqrt(residuals_.inflation / static_cast<double>(n));
  lastTime_ = pts.back().t;
  return Status::success();
}

LevelForecast TheilSenEstimator::at(Seconds t) const {
  double d = t - tMid_;
  return {level_ + slope_ * d, std::sqrt(levelSe_ * levelSe_ + d * d * slopeSe_ * slopeSe_)};
}

}  // namespace trimtab
