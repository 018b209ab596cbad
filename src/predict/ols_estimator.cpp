// SPDX-License-Identifier: Apache-2.0
#include "predict/ols_estimator.h"

#include <cmath>
#include <vector>

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "ols", OlsEstimator::create);

Status OlsEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  if (pts.size() < kMinFitPoints) return makeError("ols: needs at least 3 points");
  std::optional<LineFit> f;
  if (view.linear && view.linear->count() == pts.size()) {
    f = view.linear->fit();
  } else {
    LinearSums sums;
    sums.rebuild(pts);
    f = sums.fit();
  }
  if (!f) return makeError("ols: points do not spread in time");
  line_ = *f;
  std::vector<Point> r;
  r.reserve(pts.size());
  for (const Point& p : pts) r.push_back({p.t, p.v - line_.valueAt(p.t)});
  setResiduals(r);
  lastTime_ = pts.back().t;
  return Status::success();
}

bool OlsEstimator::refresh(const SeriesView& view) {
  if (!view.linear || view.points.size() < kMinFitPoints || view.linear->count() != view.points.size()) {
    return false;
  }
  auto f = view.linear->fit();
  if (!f) return false;
  line_ = *f;
  lastTime_ = view.points.back().t;
  return true;
}

LevelForecast OlsEstimator::at(Seconds t) const {
  return {line_.valueAt(t), line_.seAt(t) * std::sqrt(residuals_.inflation)};
}

}  // namespace trimtab
