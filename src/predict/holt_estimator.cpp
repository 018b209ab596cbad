// SPDX-License-Identifier: Apache-2.0
#include "predict/holt_estimator.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "predict/regular_grid.h"

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "holt", HoltEstimator::create);

namespace {
constexpr std::size_t kMinHoltPoints = 6;
constexpr std::size_t kWarmup = 2;  // forecasts from states before this index are not scored
constexpr double kAlphas[] = {0.05, 0.1, 0.2, 0.4, 0.7};
constexpr double kBetas[] = {0.01, 0.03, 0.1};

// Squared error of the forecasts `lead` steps ahead from every state.
double leadError(const std::vector<double>& y, double a, double b, double trend0, std::size_t lead) {
  std::size_t n = y.size();
  std::vector<double> forecast(n, 0.0);  // forecast[i]: made `lead` steps before i
  double l = y[0], tr = trend0, sse = 0;
  for (std::size_t i = 1; i < n; ++i) {
    if (i >= kWarmup + lead) {
      double e = y[i] - forecast[i];
      sse += e * e;
    }
    double nl = a * y[i] + (1 - a) * (l + tr);
    tr = b * (nl - l) + (1 - b) * tr;
    l = nl;
    if (i + lead < n) forecast[i + lead] = l + tr * static_cast<double>(lead);
  }
  return sse;
}
}  // namespace

double smoothingVarianceSum(double m, double beta) {
  if (!(m > 0)) return 0;
  return m + beta * m * (m + 1) + beta * beta * m * (m + 1) * (2 * m + 1) / 6;
}

std::size_t tuningLead(Seconds horizon, Seconds step, std::size_t n) {
  double steps = horizon > 0 ? horizon / step : 1;
  return static_cast<std::size_t>(std::clamp(steps, 1.0, std::max(1.0, static_cast<double>(n) / 3)));
}

Status HoltEstimator::fit(const SeriesView& view) {
  auto grid = regularize(view.points);
  if (!grid || grid->values.size() < kMinHoltPoints) return makeError("holt: needs at least 6 grid points");
  const auto& y = grid->values;
  std::size_t n = y.size();
  double trend0 = (y[3] - y[0]) / 3;
  // The constants are tuned for the horizon that matters, not the next step:
  // one-step tuning chases noise with a jumpy trend.
  std::size_t lead = tuningLead(options_.horizon, grid->step, n);
  double bestSse = std::numeric_limits<double>::infinity();
  for (double a : kAlphas) {
    for (double b : kBetas) {
      double sse = leadError(y, a, b, trend0, lead);
      if (sse < bestSse) {
        bestSse = sse;
        alpha_ = a;
        beta_ = b;
      }
    }
  }
  // Replay with the chosen constants to keep the final state and the one-step errors.
  std::vector<Point> errors;
  errors.reserve(n);
  double l = y[0], tr = trend0;
  for (std::size_t i = 1; i < n; ++i) {
    double e = y[i] - (l + tr);
    if (i >= kWarmup) errors.push_back({grid->timeAt(i), e});
    double nl = alpha_ * y[i] + (1 - alpha_) * (l + tr);
    tr = beta_ * (nl - l) + (1 - beta_) * tr;
    l = nl;
  }
  level_ = l;
  trend_ = tr;
  end_ = grid->end();
  step_ = grid->step;
  setResiduals(errors);
  sigma_ = residuals_.sd;
  lastTime_ = view.points.back().t;
  if (!std::isfinite(level_) || !std::isfinite(trend_)) return makeError("holt: diverged");
  return Status::success();
}

LevelForecast HoltEstimator::at(Seconds t) const {
  double h = (t - end_) / step_;
  double var = sigma_ * sigma_ * alpha_ * alpha_ * smoothingVarianceSum(h - 1, beta_);
  return {level_ + trend_ * h, std::sqrt(var)};
}

}  // namespace trimtab
