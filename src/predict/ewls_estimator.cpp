// SPDX-License-Identifier: Apache-2.0
#include "predict/ewls_estimator.h"

#include <cmath>
#include <vector>

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "ewls", EwlsEstimator::create);

namespace {
// Residual statistics come from the points the fit still weighs: those at
// most this many half-lives old.
constexpr double kResidualHalfLives = 2;
constexpr double kAutoHalfLifeFraction = 0.25;  // of the span when no half-life is given
}  // namespace

Status EwlsEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  if (pts.size() < kMinFitPoints) return makeError("ewls: needs at least 3 points");
  Seconds span = pts.back().t - pts.front().t;
  halfLife_ = options_.halfLife > 0 ? options_.halfLife : kAutoHalfLifeFraction * span;
  if (!(halfLife_ > 0)) return makeError("ewls: points do not spread in time");
  std::optional<LineFit> f;
  if (view.weighted && view.weighted->halfLife() == halfLife_ && view.weighted->count() == pts.size()) {
    f = view.weighted->fit();
  } else {
    ExpWeightedSums sums(halfLife_);
    sums.rebuild(pts);
    f = sums.fit();
  }
  if (!f) return makeError("ewls: points do not spread in time");
  line_ = *f;
  std::vector<Point> r;
  Seconds from = pts.back().t - kResidualHalfLives * halfLife_;
  for (const Point& p : pts) {
    if (p.t >= from) r.push_back({p.t, p.v - line_.valueAt(p.t)});
  }
  if (r.size() < kMinFitPoints) {
    r.clear();
    for (const Point& p : pts) r.push_back({p.t, p.v - line_.valueAt(p.t)});
  }
  setResiduals(r);
  lastTime_ = pts.back().t;
  return Status::success();
}

bool EwlsEstimator::refresh(const SeriesView& view) {
  if (!view.weighted || view.weighted->halfLife() != halfLife_ || view.points.size() < kMinFitPoints ||
      view.weighted->count() != view.points.size()) {
    return false;
  }
  auto f = view.weighted->fit();
  if (!f) return false;
  line_ = *f;
  lastTime_ = view.points.back().t;
  return true;
}

LevelForecast EwlsEstimator::at(Seconds t) const {
  return {line_.valueAt(t), line_.seAt(t) * std::sqrt(residuals_.inflation)};
}

}  // namespace trimtab
