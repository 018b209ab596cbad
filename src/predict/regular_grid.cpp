// SPDX-License-Identifier: Apache-2.0
#include "predict/regular_grid.h"

#include <algorithm>
#include <cmath>

namespace trimtab {

namespace {
constexpr std::size_t kGapSample = 1024;
}  // namespace

Seconds niceStep(Seconds seconds) {
  if (!(seconds > 0)) return 1;
  static constexpr double kRound[] = {1,   2,   5,    10,   15,   20,   30,    60,    120,   300,
                                      600, 900, 1200, 1800, 3600, 7200, 10800, 21600, 43200, 86400};
  if (seconds < 1) {
    double decade = std::pow(10.0, std::floor(std::log10(seconds)));
    for (double m : {1.0, 2.0, 5.0, 10.0}) {
      if (m * decade >= seconds * (1 - 1e-12)) return m * decade;
    }
  }
  for (double r : kRound) {
    if (r >= seconds * (1 - 1e-12)) return r;
  }
  return std::ceil(seconds / 86400) * 86400;
}

std::optional<RegularSeries> regularize(std::span<const Point> points, std::size_t maxPoints) {
  std::size_t n = points.size();
  if (n < 2 || maxPoints < 2) return std::nullopt;
  Seconds span = points.back().t - points.front().t;
  if (!(span > 0)) return std::nullopt;
  // The median gap of at most kGapSample evenly spaced gaps bounds the cost.
  std::size_t stride = (n - 1 + kGapSample - 1) / kGapSample;
  std::vector<double> gaps;
  for (std::size_t i = 1; i < n; i += stride) gaps.push_back(points[i].t - points[i - 1].t);
  std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
  Seconds median = gaps[gaps.size() / 2];
  Seconds wide = span / static_cast<double>(maxPoints - 1);
  Seconds step = median >= wide ? median : niceStep(wide);
  if (!(step > 0)) return std::nullopt;
  double lastCell = std::round(points.back().t / step);
  double firstCell = std::max(std::round(points.front().t / step), lastCell - static_cast<double>(maxPoints - 1));
  auto count = static_cast<std::size_t>(lastCell - firstCell) + 1;

  RegularSeries out;
  out.step = step;
  out.start = firstCell * step;
  std::vector<double> sum(count, 0.0);
  std::vector<int> hits(count, 0);
  for (const Point& p : points) {
    double idx = std::round((p.t - out.start) / step);
    if (idx < 0) continue;  // older than the grid (clipped by maxPoints)
    auto i = std::min(static_cast<std::size_t>(idx), count - 1);
    sum[i] += p.v;
    ++hits[i];
  }
  out.values.assign(count, 0.0);
  std::ptrdiff_t prev = -1;
  for (std::size_t i = 0; i < count; ++i) {
    if (hits[i] == 0) continue;
    out.values[i] = sum[i] / hits[i];
    // Fill the gap since the previous filled cell (or before the first one).
    for (std::size_t j = static_cast<std::size_t>(prev + 1); j < i; ++j) {
      out.values[j] = prev < 0 ? out.values[i]
                               : out.values[prev] + (out.values[i] - out.values[prev]) * static_cast<double>(j - prev) /
                                                        static_cast<double>(i - prev);
    }
    prev = static_cast<std::ptrdiff_t>(i);
  }
  // The newest sample always lands in the last cell, so no trailing gap remains.
  return out;
}

}  // namespace trimtab
