// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// A series resampled on an evenly spaced grid: values[i] is the level at
// start + i * step. The last grid time is the newest sample's time.
struct RegularSeries {
  Seconds start = 0;
  Seconds step = 0;
  std::vector<double> values;
  Seconds timeAt(std::size_t i) const { return start + static_cast<double>(i) * step; }
  Seconds end() const { return values.empty() ? start : timeAt(values.size() - 1); }
};

// Largest grid the smoothing and seasonal models run on.
inline constexpr std::size_t kMaxGridPoints = 512;

// The smallest "round" duration (1-2-5 below a second, then 1, 2, 5, 10, 15,
// 20, 30 s, 1, 2, 5, 10, 15, 20, 30 min, 1, 2, 3, 6, 12 h, whole days) not
// below `seconds`, so a daily or hourly cycle spans a whole number of steps.
Seconds niceStep(Seconds seconds);

// Resamples cleaned points (strictly increasing times) on a grid: the step
// is the median sampling interval, or, when that would make more than
// maxPoints grid points, the round step (niceStep) that fits. Grid times are
// whole multiples of the step, so successive calls on a sliding window see
// the same cells (stable fits). Each grid value is the mean of the samples
// nearest to it; empty cells are interpolated linearly. nullopt with fewer
// than 2 points.
std::optional<RegularSeries> regularize(std::span<const Point> points, std::size_t maxPoints = kMaxGridPoints);

}  // namespace trimtab
