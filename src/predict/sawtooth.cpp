// SPDX-License-Identifier: Apache-2.0
#include "predict/sawtooth.h"

#include <algorithm>
#include <cmath>

#include "predict/residual_stats.h"

namespace trimtab {

namespace {
constexpr double kDropRangeFraction = 0.25;
constexpr double kDropNoiseMultiple = 8;
constexpr double kMinDropShare = 0.6;  // of all decrease in the window
constexpr double kMadToSd = 1.4826;
constexpr std::size_t kScalePoints = 1024;
}  // namespace

std::optional<SawtoothShape> detectSawtooth(std::span<const Point> points, std::size_t minCycles) {
  std::size_t n = points.size();
  if (n < 2 * minCycles + 2) return std::nullopt;
  // The robust range and noise scale are read from at most kScalePoints
  // evenly spaced samples: enough for a quantile, and it bounds the cost.
  std::size_t stride = (n + kScalePoints - 1) / kScalePoints;
  std::vector<double> vals;
  for (std::size_t i = 0; i < n; i += stride) vals.push_back(points[i].v);
  double range = quantileInPlace(vals, 0.95) - quantileInPlace(vals, 0.05);
  std::vector<double> inc(n - 1);
  for (std::size_t i = 1; i < n; ++i) inc[i - 1] = points[i].v - points[i - 1].v;
  std::vector<double> tmp;
  for (std::size_t i = 0; i < inc.size(); i += stride) tmp.push_back(inc[i]);
  double med = quantileInPlace(tmp, 0.5);
  for (double& d : tmp) d = std::abs(d - med);
  double noise = kMadToSd * quantileInPlace(tmp, 0.5);
  double threshold = std::max(kDropRangeFraction * range, kDropNoiseMultiple * noise);
  if (!(threshold > 0)) return std::nullopt;

  // Drops: [begin, end] index ranges of runs of decreases (end = the low point).
  struct Drop {
    std::size_t begin, end;
  };
  std::vector<Drop> drops;
  double dropTotal = 0, decreaseTotal = 0;
  for (std::size_t i = 1; i < n;) {
    if (inc[i - 1] >= 0) {
      ++i;
      continue;
    }
    std::size_t begin = i - 1;
    double total = 0;
    while (i < n && inc[i - 1] < 0) {
      total -= inc[i - 1];
      ++i;
    }
    decreaseTotal += total;
    if (total > threshold) {
      drops.push_back({begin, i - 1});
      dropTotal += total;
    }
  }
  if (drops.size() < minCycles || dropTotal < kMinDropShare * decreaseTotal) return std::nullopt;

  SawtoothShape shape;
  shape.dropThreshold = threshold;
  for (std::size_t k = 0; k < drops.size(); ++k) {
    std::size_t from = drops[k].end;
    std::size_t to = k + 1 < drops.size() ? drops[k + 1].begin : n - 1;
    std::size_t best = from;
    for (std::size_t i = from; i <= to; ++i) {
      if (points[i].v < points[best].v) best = i;
    }
    shape.floors.push_back(points[best]);
    shape.peaks.push_back(points[drops[k].begin]);
  }
  return shape;
}

}  // namespace trimtab
