// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>
#include <functional>
#include <random>
#include <vector>

#include "common/metric.h"

namespace trimtab::testing {

// Samples f(t) at t = t0, t0 + step, ... (n samples).
inline std::vector<Point> sampled(std::size_t n, double step, const std::function<double(double)>& f, double t0 = 0) {
  std::vector<Point> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    double t = t0 + static_cast<double>(i) * step;
    out.push_back({t, f(t)});
  }
  return out;
}

// Adds seeded Gaussian noise.
inline std::vector<Point> noisy(std::vector<Point> pts, double sd, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, sd);
  for (Point& p : pts) p.v += n(rng);
  return pts;
}

// A collected heap: rises by `rate` per second from `floor(t)` and drops back
// to it every `period` seconds.
inline std::vector<Point> sawtoothSeries(std::size_t n, double step, double period, double amplitude, double floorSlope,
                                         double floor0 = 100) {
  return sampled(n, step, [=](double t) {
    double phase = std::fmod(t, period) / period;
    return floor0 + floorSlope * t + amplitude * phase;
  });
}

}  // namespace trimtab::testing
