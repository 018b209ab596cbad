// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>

#include "common/metric.h"
#include "predict/estimator.h"
#include "predict/mann_kendall.h"

namespace trimtab {

// Which trend test a series needs (SeriesShape, see estimator.h). A sawtooth
// is tested on its post-collection floors (a heap that returns to the same
// floor has no trend, whatever its peaks do); a seasonal series on its values
// with the season removed (a morning ramp is not a trend); anything else on
// its values.

struct ShapeInfo {
  SeriesShape kind = SeriesShape::Plain;
  Seconds period = 0;  // Seasonal: length of one cycle
};

// Looks for a sawtooth first (its cycles also show in the autocorrelation),
// then for a season.
ShapeInfo detectShape(std::span<const Point> points);

struct TrendEvidence {
  SeriesShape testedAs = SeriesShape::Plain;  // falls back to Plain when the shape is no longer visible
  MannKendallResult mk;
};

// Mann-Kendall test suited to `shape`, with the variance inflated for lag-1
// autocorrelation (Yue-Wang) on plain and seasonal series. Long windows are
// reduced deterministically (bucket medians or the regular grid) so the cost
// is bounded.
TrendEvidence testTrend(std::span<const Point> points, const ShapeInfo& shape);

}  // namespace trimtab
