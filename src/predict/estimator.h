// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/metric.h"
#include "common/registry.h"
#include "common/result.h"
#include "predict/residual_stats.h"
#include "predict/running_sums.h"

namespace trimtab {

// Parameters shared by every estimator factory.
struct EstimatorOptions {
  Seconds halfLife = 0;  // ewls: weight half-life; 0 = a quarter of the fitted span
  // How far ahead forecasts matter: smoothing models tune their constants for
  // it and the residual excursions are measured over stretches this long
  // (see ResidualStats). 0: one step, and excursions over the whole window.
  Seconds horizon = 0;
};

// The cleaned window an estimator fits: finite values, strictly increasing
// times (see SeriesWindow). The sums, when given, cover exactly `points`.
struct SeriesView {
  std::span<const Point> points;
  const LinearSums* linear = nullptr;
  const ExpWeightedSums* weighted = nullptr;
};

// The shape of a series, which decides the trend test and which models are
// candidates (see detectShape).
enum class SeriesShape {
  Plain,     // anything else: lines, curves, steps, noise
  Sawtooth,  // slow rises cut by sudden drops (a garbage-collected heap)
  Seasonal,  // a repeating cycle (daily or hourly load)
};

// The fitted mean level at a time and its standard error (uncertainty of the
// mean, not of one observation; inflated for autocorrelated residuals).
struct LevelForecast {
  double mean = 0;
  double se = 0;
};

// One way to model a series' level over time. An extension point: each
// implementation is one .h/.cpp pair that registers itself by name:
//
//   TRIMTAB_REGISTER(EstimatorRegistry, "ols", OlsEstimator::create);
//
// Contract: fit() either succeeds, after which at(), slope() and residuals()
// are finite for any finite time, or returns an error saying why this model
// does not apply (too few points, no season, no sawtooth) and leaves the
// estimator unfitted. Estimators never throw and never read the clock.
// Thread safety: none; one instance per series.
class Estimator {
 public:
  virtual ~Estimator() = default;

  virtual std::string_view name() const = 0;

  // Fits the whole window.
  virtual Status fit(const SeriesView& view) = 0;

  // Cheap refit after the window moved, from the view's running sums; keeps
  // residual statistics from the last fit(). False: not supported (or no
  // sums), call fit() instead. REQUIRES: a successful fit() before.
  virtual bool refresh(const SeriesView& view) {
    (void)view;
    return false;
  }

  // REQUIRES: a successful fit. `t` is an absolute time.
  virtual LevelForecast at(Seconds t) const = 0;
  // Rate of change of the mean at `t`, per second.
  virtual double slope(Seconds t) const = 0;

  // Rank of the model among the candidates for series of this shape: lower
  // is preferred (simpler, or made for the shape); model choice tries
  // candidates in rank order and a later one must beat the best so far by
  // kSelectionMargin. kUnsuited: not a candidate for that shape.
  virtual int preference(SeriesShape shape) const = 0;
  static constexpr int kUnsuited = -1;

  const ResidualStats& residuals() const { return residuals_; }
  // Time of the newest point fitted.
  Seconds lastTime() const { return lastTime_; }

 protected:
  explicit Estimator(EstimatorOptions options) : options_(options) {}
  // Fills residuals_ from (time, residual) pairs in time order.
  void setResiduals(std::span<const Point> residuals) { residuals_ = summarizeResiduals(residuals, options_.horizon); }

  EstimatorOptions options_;
  ResidualStats residuals_;
  Seconds lastTime_ = 0;
};

using EstimatorFactory = std::unique_ptr<Estimator>(const EstimatorOptions&);
using EstimatorRegistry = Registry<struct EstimatorTag, EstimatorFactory>;

// nullptr when no estimator has that name.
std::unique_ptr<Estimator> makeEstimator(const std::string& name, const EstimatorOptions& options = {});
// Registered names, sorted.
std::vector<std::string> estimatorNames();

// Fewest points any line-like fit accepts.
inline constexpr std::size_t kMinFitPoints = 3;

}  // namespace trimtab
