// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <vector>

#include "predict/estimator.h"

namespace trimtab {

// "lower_envelope": for sawtooth series (a garbage-collected heap). Fits a
// least-squares line through the post-collection floors (see
// detectSawtooth): a flat floor is no leak, a rising floor is; slope() is
// the floor's. The mean level is the floor plus the average height above
// it; residuals() say how high the peaks reach above that mean. The peaks
// get a line too: when they rise faster than the floor (a JVM whose old
// generation is collected later and later as it fills), the future mean
// rises with them, since the peaks are what reaches a limit first.
// Fails on series without at least kMinSawtoothCycles collections.
class LowerEnvelopeEstimator final : public Estimator {
 public:
  explicit LowerEnvelopeEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<LowerEnvelopeEstimator>(options);
  }

  std::string_view name() const override { return "lower_envelope"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Sawtooth ? 0 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return floor_.slope; }
  const std::vector<Point>& floors() const { return floors_; }
  const LineFit& floorLine() const { return floor_; }
  const LineFit& peakLine() const { return peak_; }

 private:
  std::vector<Point> floors_;
  LineFit floor_, peak_;
  double meanOffset_ = 0;
  double extraSlope_ = 0;  // how much faster the peaks rise than the floor (>= 0)
};

}  // namespace trimtab
