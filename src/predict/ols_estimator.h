// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "predict/estimator.h"

namespace trimtab {

// "ols": ordinary least-squares line, a candidate for every shape.
// Incremental: refresh() reads the window's running sums in O(1).
class OlsEstimator final : public Estimator {
 public:
  explicit OlsEstimator(EstimatorOptions options = {}) : Estimator(options) {}
  static std::unique_ptr<Estimator> create(const EstimatorOptions& options) {
    return std::make_unique<OlsEstimator>(options);
  }

  std::string_view name() const override { return "ols"; }
  Status fit(const SeriesView& view) override;
  bool refresh(const SeriesView& view) override;
  int preference(SeriesShape shape) const override { return shape == SeriesShape::Plain ? 0 : 1; }
  LevelForecast at(Seconds t) const override;
  double slope(Seconds) const override { return line_.slope; }
  const LineFit& line() const { return line_; }

 private:
  LineFit line_;
};

}  // namespace trimtab
