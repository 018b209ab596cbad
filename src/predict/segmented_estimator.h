// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "predict/estimator.h"

namespace trimtab {

// "segmented": two least-squares lines split at the one breakpoint that
// minimizes the total squared error, for a trend that started or changed
// inside the window (a leak after a deploy). The forecast is the last
// segment's line. The split is kept only when it pays for its three extra
// parameters (a BIC test); otherwise one line covers the window. Every
// breakpoint is tried in O(n) through prefix sums.
class SegmentedEstimator final : public Estimator {
 public:
  explicit SegmentedEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<SegmentedEstimator>(options);
  }

  std::string_view name() const override { return "segmented"; }
  Status fit(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 3 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return line_.slope; }
  // Start of the last segment (the first point's time when there is no split).
  Seconds breakpoint() const { return breakpoint_; }

 private:
  LineFit line_;
  Seconds breakpoint_ = 0;
};

}  // namespace trimtab
