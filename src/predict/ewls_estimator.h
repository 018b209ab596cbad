// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "predict/estimator.h"

namespace trimtab {

// "ewls": exponentially weighted least-squares line; a point's weight halves
// every half-life of age, so the line follows a trend that changed (a leak
// that started or sped up) sooner than a plain line. Incremental when the
// window's weighted sums use the same half-life.
class EwlsEstimator final : public Estimator {
 public:
  explicit EwlsEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<EwlsEstimator>(options);
  }

  std::string_view name() const override { return "ewls"; }
  Status fit(const SeriesView& view) override;
  bool refresh(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 2 : kUnsuited; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return line_.slope; }
  Seconds halfLife() const { return halfLife_; }

 private:
  LineFit line_;
  Seconds halfLife_ = 0;
};

}  // namespace trimtab
