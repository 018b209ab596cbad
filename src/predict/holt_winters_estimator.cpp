// SPDX-License-Identifier: Apache-2.0
#include "predict/holt_winters_estimator.h"

#include <cmath>
#include <limits>

#include "predict/holt_estimator.h"
#include "predict/regular_grid.h"
#include "predict/season.h"

namespace trimtab {

TRIMTAB_REGISTER(EstimatorRegistry, "holt_winters", HoltWintersEstimator::create);

namespace {
constexpr double kAlphas[] = {0.05, 0.2, 0.5};
constexpr double kBetas[] = {0.01, 0.1};
constexpr double kGammas[] = {0.05, 0.3};

struct Run {
  double level, trend, sse;
  std::vector<double> season;
};

// One pass of the additive recursions from index 0. `sse` scores the
// forecasts made `lead` steps ahead (tuning for the horizon that matters);
// `errors` gets the one-step errors. The first season is warm-up.
Run runHoltWinters(const std::vector<double>& y, std::size_t m, double l0, double t0, const std::vector<double>& s0,
                   double a, double b, double g, std::size_t lead, std::vector<double>* errors) {
  // errors[i - m]: one-step error at grid index i >= m.
  Run r{l0 - t0, t0, 0, s0};
  std::size_t n = y.size();
  std::vector<double> forecast(n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    double& s = r.season[i % m];
    double e = y[i] - (r.level + r.trend + s);
    if (i >= m && errors) errors->push_back(e);
    if (i >= m + lead) {
      double el = y[i] - forecast[i];
      r.sse += el * el;
    }
    double nl = a * (y[i] - s) + (1 - a) * (r.level + r.trend);
    r.trend = b * (nl - r.level) + (1 - b) * r.trend;
    s = g * (y[i] - nl) + (1 - g) * s;
    r.level = nl;
    if (i + lead < n) {
      forecast[i + lead] = r.level + r.trend * static_cast<double>(lead) + r.season[(i + lead) % m];
    }
  }
  return r;
}
}  // namespace

Status HoltWintersEstimator::fit(const SeriesView& view) {
  auto grid = regularize(view.points);
  if (!grid) return makeError("holt_winters: too few points");
  const auto& y = grid->values;
  auto found = detectSeason(y);
  if (!found) return makeError("holt_winters: no season (needs two visible cycles)");
  std::size_t m = found->period;
  std::size_t n = y.size();
  // Initial state from the first two cycles; the initial pattern from all of them.
  double mean1 = 0, mean2 = 0;
  for (std::size_t i = 0; i < m; ++i) {
    mean1 += y[i];
    mean2 += y[i + m];
  }
  mean1 /= static_cast<double>(m);
  mean2 /= static_cast<double>(m);
  double t0 = (mean2 - mean1) / static_cast<double>(m);
  double l0 = mean1 - t0 * (static_cast<double>(m) - 1) / 2;
  std::vector<double> s0 = seasonalPattern(y, m);

  std::size_t lead = tuningLead(options_.horizon, grid->step, n);
  double bestSse = std::numeric_limits<double>::infinity();
  for (double a : kAlphas) {
    for (double b : kBetas) {
      for (double g : kGammas) {
        double sse = runHoltWinters(y, m, l0, t0, s0, a, b, g, lead, nullptr).sse;
        if (sse < bestSse) {
          bestSse = sse;
          alpha_ = a;
          beta_ = b;
          gamma_ = g;
        }
      }
    }
  }
  std::vector<double> errors;
  Run best = runHoltWinters(y, m, l0, t0, s0, alpha_, beta_, gamma_, lead, &errors);
  level_ = best.level;
  trend_ = best.trend;
  season_ = std::move(best.season);
  end_ = grid->end();
  step_ = grid->step;
  last_ = n - 1;
  std::vector<Point> timed(errors.size());
  for (std::size_t i = 0; i < errors.size(); ++i) timed[i] = {grid->timeAt(i + m), errors[i]};
  setResiduals(timed);
  sigma_ = residuals_.sd;
  lastTime_ = view.points.back().t;
  if (!std::isfinite(level_) || !std::isfinite(trend_)) return makeError("holt_winters: diverged");
  return Status::success();
}

double HoltWintersEstimator::seasonalAt(double index) const {
  double m = static_cast<double>(season_.size());
  double phase = std::fmod(index, m);
  if (phase < 0) phase += m;
  auto i0 = static_cast<std::size_t>(phase);
  double frac = phase - static_cast<double>(i0);
  std::size_t i1 = (i0 + 1) % season_.size();
  i0 %= season_.size();
  return season_[i0] + frac * (season_[i1] - season_[i0]);
}

LevelForecast HoltWintersEstimator::at(Seconds t) const {
  double h = (t - end_) / step_;
  double var = sigma_ * sigma_ * alpha_ * alpha_ * smoothingVarianceSum(h - 1, beta_);
  return {level_ + trend_ * h + seasonalAt(static_cast<double>(last_) + h), std::sqrt(var)};
}

}  // namespace trimtab
