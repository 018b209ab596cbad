// SPDX-License-Identifier: Apache-2.0
#include "predict/eval/prometheus_baseline.h"

#include <algorithm>
#include <cmath>

namespace trimtab {

namespace {

// kahanSumInc from promql/functions.go (Neumaier's variant).
void kahanInc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::abs(sum) >= std::abs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}

}  // namespace

PredictLinear predictLinear(std::span<const Point> range, Seconds at, Seconds duration) {
  PredictLinear out;
  if (range.size() < 2) return out;
  double n = 0, sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
  bool constY = true;
  double initY = range[0].v;
  for (const Point& p : range) {
    if (p.v != initY) constY = false;
    n += 1;
    double x = p.t - at;
    kahanInc(x, sumX, cX);
    kahanInc(p.v, sumY, cY);
    kahanInc(x * p.v, sumXY, cXY);
    kahanInc(x * x, sumX2, cX2);
  }
  out.ok = true;
  if (constY) {
    out.slope = 0;
    out.intercept = initY;
  } else {
    sumX += cX;
    sumY += cY;
    sumXY += cXY;
    sumX2 += cX2;
    double covXY = sumXY - sumX * sumY / n;
    double varX = sumX2 - sumX * sumX / n;
    out.slope = covXY / varX;
    out.intercept = sumY / n - out.slope * sumX / n;
  }
  out.value = out.slope * duration + out.intercept;
  return out;
}

std::span<const Point> rangeSelect(std::span<const Point> points, Seconds at, Seconds range) {
  auto lo =
      std::lower_bound(points.begin(), points.end(), at - range, [](const Point& p, Seconds t) { return p.t < t; });
  auto hi = std::upper_bound(points.begin(), points.end(), at, [](Seconds t, const Point& p) { return t < p.t; });
  if (hi <= lo) return {};
  return points.subspan(static_cast<std::size_t>(lo - points.begin()), static_cast<std::size_t>(hi - lo));
}

}  // namespace trimtab
