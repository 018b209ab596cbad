// SPDX-License-Identifier: Apache-2.0
#include "predict/trend_test.h"

#include <cmath>
#include <vector>

#include "predict/regular_grid.h"
#include "predict/residual_stats.h"
#include "predict/sawtooth.h"
#include "predict/season.h"

namespace trimtab {

namespace {

double correlationFactor(std::span<const double> values) {
  std::vector<double> d = detrend(values);
  double rho = lag1Autocorrelation(d);
  double n = static_cast<double>(values.size());
  return rho > 1.96 / std::sqrt(n) ? ar1VarianceFactor(rho, n) : 1.0;
}

MannKendallResult plainTest(std::span<const Point> points) {
  std::vector<double> sample = trendSample(points);
  return mannKendall(sample, correlationFactor(sample));
}

}  // namespace

ShapeInfo detectShape(std::span<const Point> points) {
  ShapeInfo info;
  if (detectSawtooth(points)) {
    info.kind = SeriesShape::Sawtooth;
    return info;
  }
  auto grid = regularize(points);
  if (!grid) return info;
  if (auto season = detectSeason(grid->values)) {
    info.kind = SeriesShape::Seasonal;
    info.period = static_cast<double>(season->period) * grid->step;
  }
  return info;
}

TrendEvidence testTrend(std::span<const Point> points, const ShapeInfo& shape) {
  TrendEvidence ev;
  if (shape.kind == SeriesShape::Sawtooth) {
    if (auto saw = detectSawtooth(points)) {
      std::vector<double> floors;
      for (const Point& p : saw->floors) floors.push_back(p.v);
      ev.testedAs = SeriesShape::Sawtooth;
      ev.mk = mannKendall(floors);
      return ev;
    }
  } else if (shape.kind == SeriesShape::Seasonal) {
    auto grid = regularize(points);
    if (grid) {
      auto m = static_cast<std::size_t>(std::llround(shape.period / grid->step));
      if (m >= kMinSeasonPeriod && grid->values.size() >= 2 * m) {
        std::vector<double> pattern = seasonalPattern(grid->values, m);
        std::vector<double> d(grid->values.size());
        for (std::size_t i = 0; i < d.size(); ++i) d[i] = grid->values[i] - pattern[i % m];
        ev.testedAs = SeriesShape::Seasonal;
        ev.mk = mannKendall(d, correlationFactor(d));
        return ev;
      }
    }
  }
  ev.mk = plainTest(points);
  return ev;
}

}  // namespace trimtab
