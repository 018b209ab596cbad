// SPDX-License-Identifier: Apache-2.0
#include "predict/lower_envelope_estimator.h"

#include <algorithm>
#include <cmath>

#include "predict/sawtooth.h"

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "lower_envelope", LowerEnvelopeEstimator::create);

Status LowerEnvelopeEstimator::fit(const SeriesView& view) {
  auto pts = view.points;
  auto shape = detectSawtooth(pts);
  if (!shape) return makeError("lower_envelope: no sawtooth (fewer than 4 collections in the window)");
  LinearSums sums;
  sums.rebuild(shape->floors);
  auto line = sums.fit();
  if (!line) return makeError("lower_envelope: floors do not spread in time");
  floors_ = std::move(shape->floors);
  floor_ = *line;
  sums.rebuild(shape->peaks);
  auto peak = sums.fit();
  peak_ = peak ? *peak : floor_;
  extraSlope_ = std::max(0.0, peak_.slope - floor_.slope);
  std::vector<double> height(pts.size());
  double mean = 0;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    height[i] = pts[i].v - floor_.valueAt(pts[i].t);
    mean += height[i];
  }
  meanOffset_ = mean / static_cast<double>(pts.size());
  std::vector<Point> r(pts.size());
  for (std::size_t i = 0; i < pts.size(); ++i) r[i] = {pts[i].t, height[i] - meanOffset_};
  setResiduals(r);
  lastTime_ = pts.back().t;
  return Status::success();
}

LevelForecast LowerEnvelopeEstimator::at(Seconds t) const {
  double ahead = std::max(0.0, t - lastTime_);
  double se = extraSlope_ > 0 ? std::max(floor_.seAt(t), peak_.seAt(t)) : floor_.seAt(t);
  return {floor_.valueAt(t) + meanOffset_ + extraSlope_ * ahead, se};
}

}  // namespace trimtab
