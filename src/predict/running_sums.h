// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <optional>
#include <span>

#include "common/metric.h"

namespace trimtab {

// A least-squares line, value = yMean + slope * (t - tMean).
struct LineFit {
  Seconds tMean = 0;
  double yMean = 0;
  double slope = 0;   // per second
  double sxx = 0;     // Σ w (t - tMean)², w = 1 for ordinary least squares
  double sigma2 = 0;  // residual variance; 0 with two points
  double n = 0;       // points (OLS) or effective points (Σw)²/Σw² (weighted)
  // Weighted fits only: Σw, Σw², Σw²(t - tMean), Σw²(t - tMean)², for the
  // sandwich variance of a fit whose weights are not inverse variances.
  double w = 0, v = 0, vx = 0, vxx = 0;

  double valueAt(Seconds t) const { return yMean + slope * (t - tMean); }
  // Standard error of valueAt(t) with independent residuals.
  double seAt(Seconds t) const;
};

// Running sums for an ordinary least-squares line over a sliding window:
// add/remove one point in O(1). Times and values are stored relative to an
// anchor (the first point since the last clear/rebuild) so the sums keep
// their precision; callers rebuild now and then to shed rounding drift.
class LinearSums {
 public:
  void clear();
  void add(const Point& p);
  void remove(const Point& p);
  void rebuild(std::span<const Point> points);
  std::size_t count() const { return static_cast<std::size_t>(n_ + 0.5); }
  // nullopt with fewer than two points or no spread in time.
  std::optional<LineFit> fit() const;

 private:
  void anchor(const Point& p);
  bool anchored_ = false;
  Seconds t0_ = 0;
  double y0_ = 0;
  double n_ = 0, sx_ = 0, sy_ = 0, sxx_ = 0, sxy_ = 0, syy_ = 0;
};

// Running sums for an exponentially weighted least-squares line: the weight
// of a point halves every `halfLife` seconds of age. Weights are kept
// relative to a reference time that moves forward (rescaling the sums) so
// they neither overflow nor underflow.
class ExpWeightedSums {
 public:
  explicit ExpWeightedSums(Seconds halfLife = 3600) : halfLife_(halfLife) {}
  Seconds halfLife() const { return halfLife_; }
  void setHalfLife(Seconds halfLife);  // clears
  void clear();
  void add(const Point& p);
  void remove(const Point& p);
  void rebuild(std::span<const Point> points);
  std::size_t count() const { return count_; }
  std::optional<LineFit> fit() const;

 private:
  double weight(Seconds t) const;
  void moveReference(Seconds t);
  Seconds halfLife_;
  bool anchored_ = false;
  Seconds t0_ = 0, tw_ = 0;
  double y0_ = 0;
  std::size_t count_ = 0;
  double w_ = 0, wx_ = 0, wy_ = 0, wxx_ = 0, wxy_ = 0, wyy_ = 0;  // Σw·(1, x, y, x², xy, y²)
  double v_ = 0, vx_ = 0, vxx_ = 0;                               // Σw²·(1, x, x²)
};

}  // namespace trimtab
