// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// A garbage-collected heap's shape: slow rises cut by sudden drops.
struct SawtoothShape {
  std::vector<Point> floors;  // the lowest sample after each drop (a post-collection floor), in time order
  std::vector<Point> peaks;   // the sample each drop starts from (the heap just before a collection)
  double dropThreshold = 0;   // smallest decrease counted as a collection
};

// Fewest collections in a window for it to count as a sawtooth.
inline constexpr std::size_t kMinSawtoothCycles = 4;

// Finds collections: runs of consecutive decreases whose total exceeds both a
// quarter of the window's robust range (5th to 95th percentile) and eight
// robust standard deviations of the sample-to-sample changes, and that
// together make up most of the window's total decrease. Noise, steps,
// seasons and one-off recoveries do not qualify. nullopt when fewer than
// minCycles drops are found.
std::optional<SawtoothShape> detectSawtooth(std::span<const Point> points, std::size_t minCycles = kMinSawtoothCycles);

}  // namespace trimtab
