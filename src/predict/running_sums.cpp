// SPDX-License-Identifier: Apache-2.0
#include "predict/running_sums.h"

#include <algorithm>
#include <cmath>

namespace trimtab {

namespace {
// Move the weight reference once it is this many half-lives behind the
// newest point: weights stay below 2^kRebaseHalfLives.
constexpr double kRebaseHalfLives = 32;
}  // namespace

double LineFit::seAt(Seconds t) const {
  if (sigma2 <= 0 || n <= 0) return 0;
  double d = t - tMean;
  if (w <= 0) {  // ordinary least squares
    double var = 1.0 / n + (sxx > 0 ? d * d / sxx : 0);
    return std::sqrt(sigma2 * var);
  }
  double var = v / (w * w);
  if (sxx > 0) var += 2 * d * vx / (w * sxx) + d * d * vxx / (sxx * sxx);
  return std::sqrt(sigma2 * std::max(var, 0.0));
}

void LinearSums::clear() {
  anchored_ = false;
  n_ = sx_ = sy_ = sxx_ = sxy_ = syy_ = 0;
}

void LinearSums::anchor(const Point& p) {
  anchored_ = true;
  t0_ = p.t;
  y0_ = p.v;
}

void LinearSums::add(const Point& p) {
  if (!anchored_) anchor(p);
  double x = p.t - t0_, y = p.v - y0_;
  n_ += 1;
  sx_ += x;
  sy_ += y;
  sxx_ += x * x;
  sxy_ += x * y;
  syy_ += y * y;
}

void LinearSums::remove(const Point& p) {
  double x = p.t - t0_, y = p.v - y0_;
  n_ -= 1;
  sx_ -= x;
  sy_ -= y;
  sxx_ -= x * x;
  sxy_ -= x * y;
  syy_ -= y * y;
  if (n_ < 0.5) clear();
}

void LinearSums::rebuild(std::span<const Point> points) {
  clear();
  for (const Point& p : points) add(p);
}

std::optional<LineFit> LinearSums::fit() const {
  if (n_ < 1.5) return std::nullopt;
  double xm = sx_ / n_, ym = sy_ / n_;
  double sxx = std::max(sxx_ - sx_ * xm, 0.0);
  double sxy = sxy_ - sx_ * ym;
  double syy = std::max(syy_ - sy_ * ym, 0.0);
  // Relative spread below rounding noise: all points at one time.
  if (!(sxx > 1e-12 * (sxx_ + 1e-300))) return std::nullopt;
  LineFit f;
  f.tMean = t0_ + xm;
  f.yMean = y0_ + ym;
  f.slope = sxy / sxx;
  f.sxx = sxx;
  f.n = n_;
  f.sigma2 = n_ > 2.5 ? std::max(syy - f.slope * sxy, 0.0) / (n_ - 2) : 0;
  return f;
}

void ExpWeightedSums::setHalfLife(Seconds halfLife) {
  halfLife_ = halfLife;
  clear();
}

void ExpWeightedSums::clear() {
  anchored_ = false;
  count_ = 0;
  w_ = wx_ = wy_ = wxx_ = wxy_ = wyy_ = v_ = vx_ = vxx_ = 0;
}

double ExpWeightedSums::weight(Seconds t) const { return std::exp2((t - tw_) / halfLife_); }

void ExpWeightedSums::moveReference(Seconds t) {
  double f = std::exp2((tw_ - t) / halfLife_);
  double f2 = f * f;
  w_ *= f;
  wx_ *= f;
  wy_ *= f;
  wxx_ *= f;
  wxy_ *= f;
  wyy_ *= f;
  v_ *= f2;
  vx_ *= f2;
  vxx_ *= f2;
  tw_ = t;
}

void ExpWeightedSums::add(const Point& p) {
  if (!anchored_) {
    anchored_ = true;
    t0_ = tw_ = p.t;
    y0_ = p.v;
  }
  if (p.t - tw_ > kRebaseHalfLives * halfLife_) moveReference(p.t);
  double x = p.t - t0_, y = p.v - y0_, w = weight(p.t), w2 = w * w;
  ++count_;
  w_ += w;
  wx_ += w * x;
  wy_ += w * y;
  wxx_ += w * x * x;
  wxy_ += w * x * y;
  wyy_ += w * y * y;
  v_ += w2;
  vx_ += w2 * x;
  vxx_ += w2 * x * x;
}

void ExpWeightedSums::remove(const Point& p) {
  if (count_ == 0) return;
  double x = p.t - t0_, y = p.v - y0_, w = weight(p.t), w2 = w * w;
  --count_;
  if (count_ == 0) {
    clear();
    return;
  }
  w_ -= w;
  wx_ -= w * x;
  wy_ -= w * y;
  wxx_ -= w * x * x;
  wxy_ -= w * x * y;
  wyy_ -= w * y * y;
  v_ -= w2;
  vx_ -= w2 * x;
  vxx_ -= w2 * x * x;
}

void ExpWeightedSums::rebuild(std::span<const Point> points) {
  clear();
  if (points.empty()) return;
  // Anchor the weights at the newest point: every weight is at most 1.
  anchored_ = true;
  t0_ = points.front().t;
  y0_ = points.front().v;
  tw_ = points.back().t;
  for (const Point& p : points) add(p);
}

std::optional<LineFit> ExpWeightedSums::fit() const {
  if (count_ < 2 || !(w_ > 0) || !(v_ > 0)) return std::nullopt;
  double xm = wx_ / w_, ym = wy_ / w_;
  double sxx = std::max(wxx_ - wx_ * xm, 0.0);
  double sxy = wxy_ - wx_ * ym;
  double syy = std::max(wyy_ - wy_ * ym, 0.0);
  if (!(sxx > 1e-12 * (wxx_ + 1e-300))) return std::nullopt;
  LineFit f;
  f.tMean = t0_ + xm;
  f.yMean = y0_ + ym;
  f.slope = sxy / sxx;
  f.sxx = sxx;
  f.n = w_ * w_ / v_;
  f.w = w_;
  f.v = v_;
  f.vx = vx_ - xm * v_;
  f.vxx = std::max(vxx_ - 2 * xm * vx_ + xm * xm * v_, 0.0);
  // Reliability-weighted residual variance, corrected for the two fitted
  // parameters through the effective number of points.
  double rss = std::max(syy - f.slope * sxy, 0.0) / w_;
  f.sigma2 = f.n > 2.5 ? rss * f.n / (f.n - 2) : 0;
  return f;
}

}  // namespace trimtab
