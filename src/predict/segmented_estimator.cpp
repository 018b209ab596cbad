// SPDX-License-Identifier: Apache-2.0
#include "predict/segmented_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "segmented", SegmentedEstimator::create);

namespace {

constexpr std::size_t kMinSegmentPoints = 8;
constexpr double kMinSegmentFraction = 0.1;  // of the window's points, each side
constexpr double kExtraParameters = 3;       // breakpoint, second slope and level

struct Sums {
  double n = 0, x = 0, y = 0, xx = 0, xy = 0, yy = 0;
  Sums operator-(const Sums& o) const { return {n - o.n, x - o.x, y - o.y, xx - o.xx, xy - o.xy, yy - o.yy}; }
  // Residual sum of squares of the least-squares line.
  double rss() const {
    if (n < 2) return 0;
    double sxx = xx - x * x / n, sxy = xy - x * y / n, syy = yy - y * y / n;
    if (!(sxx > 0)) return std::max(syy, 0.0);
    return std::max(syy - sxy * sxy / sxx, 0.0);
  }
};

}  // namespace

Status SegmentedEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  std::size_t n = pts.size();
  if (n < kMinFitPoints) return makeError("segmented: needs at least 3 points");
  // Prefix sums relative to the newest point keep the cancellation small.
  Seconds t0 = pts.back().t;
  double y0 = pts.back().v;
  std::vector<Sums> prefix(n + 1);
  for (std::size_t i = 0; i < n; ++i) {
    double x = pts[i].t - t0, y = pts[i].v - y0;
    const Sums& p = prefix[i];
    prefix[i + 1] = {p.n + 1, p.x + x, p.y + y, p.xx + x * x, p.xy + x * y, p.yy + y * y};
  }
  double whole = prefix[n].rss();
  std::size_t minSeg =
      std::max(kMinSegmentPoints, static_cast<std::size_t>(kMinSegmentFraction * static_cast<double>(n)));
  std::size_t split = 0;
  if (n >= 2 * minSeg) {
    double best = std::numeric_limits<double>::infinity();
    for (std::size_t k = minSeg; k + minSeg <= n; ++k) {
      double rss = prefix[k].rss() + (prefix[n] - prefix[k]).rss();
      if (rss < best) {
        best = rss;
        split = k;
      }
    }
    // BIC: n log(RSS1/RSS2) must exceed the price of the extra parameters.
    double dn = static_cast<double>(n);
    if (!(best > 0) || !(whole > 0) || dn * std::log(whole / best) <= kExtraParameters * std::log(dn)) split = 0;
  }
  LinearSums sums;
  sums.rebuild(pts.subspan(split));
  auto f = sums.fit();
  if (!f) return makeError("segmented: points do not spread in time");
  line_ = *f;
  breakpoint_ = pts[split].t;
  std::vector<Point> r;
  r.reserve(n - split);
  for (std::size_t i = split; i < n; ++i) r.push_back({pts[i].t, pts[i].v - line_.valueAt(pts[i].t)});
  setResiduals(r);
  lastTime_ = pts.back().t;
  return Status::success();
}

LevelForecast SegmentedEstimator::at(Seconds t) const {
  return {line_.valueAt(t), line_.seAt(t) * std::sqrt(residuals_.inflation)};
}

}  // namespace trimtab
