// SPDX-License-Identifier: Apache-2.0
#include "queueing.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trimtab::sim {
namespace {

constexpr int kMaxNewtonIterations = 80;
constexpr double kNewtonTolerance = 1e-10;
constexpr double kNewtonStep = 1e-5;
constexpr double kSurvivalTolerance = 1e-12;  // relative error of S(t) that counts as solved
constexpr double kMinQuantileScale = 1e-9;  // seconds: relative tolerances below this are absolute
constexpr double kCancellation = 1e-4;      // |k| x below which e^a - e^b loses digits
constexpr double kSeriesThreshold = 1e-3;   // |theta D| below which series replace closed forms
constexpr double kTinyRate = 1e-300;
// Below this std::exp returns +0 exactly, through libm's slow underflow path
// (errno, a call to its error handler). A lightly loaded pool asks for
// e^{-theta D} with theta D in the thousands at every step.
constexpr double kExpUnderflow = -746.0;

// std::exp, bit for bit, without the underflow path.
inline double exp0(double x) { return x < kExpUnderflow ? 0.0 : std::exp(x); }

// 1/B(c, a) by 1/B(k) = 1 + (k/a)/B(k-1). Overflows to +inf when B underflows,
// which every caller treats as B = 0.
double inverseErlangB(int servers, double offered) {
  if (offered <= 0) return std::numeric_limits<double>::infinity();
  const double inv = 1.0 / offered;
  double i = 1.0;
  for (int k = 1; k <= servers; ++k) i = 1.0 + static_cast<double>(k) * inv * i;
  return i;
}

// int_0^D v e^{-theta v - s} dv, stable for both signs of theta.
double integrateLinearExp(double theta, double d, double s) {
  const double x = theta * d;
  if (std::abs(x) < kSeriesThreshold) {
    return exp0(-s) * d * d * (0.5 - x / 3 + x * x / 8 - x * x * x / 30);
  }
  if (theta > 0) {
    if (std::isinf(d)) return 1.0 / (theta * theta);
    return (1.0 - exp0(-x) * (1.0 + x)) / (theta * theta);  // s == 0 here
  }
  const double u = -theta;  // s == u d: scaled by e^{-u d}
  return ((u * d - 1.0) + exp0(-u * d)) / (u * u);
}

}  // namespace

double integrateExp(double k, double x0, double x1, double shift) {
  const double len = x1 - x0;
  if (!(len > 0)) return 0;
  const double x = std::abs(k) * len;
  const double factor = x < 1e-8 ? len * (1.0 - x / 2) : -std::expm1(-x) / std::abs(k);
  // Evaluate the exponential at the end where it is largest, so it is <= 1.
  const double peak = k > 0 ? exp0(k * x1 - shift) : exp0(k * x0 - shift);
  return peak * factor;
}

double erlangB(int servers, double offered) {
  if (servers < 1) return 1.0;
  return 1.0 / inverseErlangB(servers, offered);
}

double erlangC(int servers, double offered) {
  if (servers < 1 || offered >= servers) return 1.0;
  const double b = erlangB(servers, offered);
  const double rho = offered / servers;
  return b / (1.0 - rho * (1.0 - b));
}

double uslInflation(double n, double sigma, double kappa) {
  const double m = std::max(n, 1.0);
  return 1.0 + sigma * (m - 1.0) + kappa * m * (m - 1.0);
}

double uslThroughput(double n, double lambda1, double sigma, double kappa) {
  if (n <= 0) return 0;
  return lambda1 * n / (1.0 + sigma * (n - 1.0) + kappa * n * (n - 1.0));
}

double uslBusyFixedPoint(double lambda, double s0, double sigma, double kappa) {
  const double a = lambda * s0;
  if (a <= 1.0) return a;  // at most one query at a time on average: no contention
  // a kappa N^2 + (a sigma - a kappa - 1) N + a (1 - sigma) = 0; smallest root,
  // in the conjugate form that stays exact for kappa -> 0.
  const double b = 1.0 + a * kappa - a * sigma;
  const double disc = b * b - 4.0 * a * kappa * a * (1.0 - sigma);
  if (disc < 0 || b <= 0) return -1.0;
  const double denom = b + std::sqrt(disc);
  if (!(denom > 0)) return -1.0;
  return 2.0 * a * (1.0 - sigma) / denom;
}

void MmcdQueue::solve(double lambda, double mu, int servers, double patience) {
  lambda_ = std::max(lambda, 0.0);
  mu_ = std::max(mu, kTinyRate);
  servers_ = std::max(servers, 1);
  patience_ = std::clamp(patience, 0.0, kMaxPatience);
  rate_ = servers_ * mu_;
  theta_ = rate_ - lambda_;
  shift_ = std::max(0.0, -theta_ * patience_);
  tail_ = exp0(-theta_ * patience_ - shift_);
  const double invB1 = inverseErlangB(static_cast<int>(servers_), lambda_ / mu_) - 1.0;
  scale_ = exp0(-shift_);
  const double idle = scale_ > 0 ? invB1 * scale_ : 0.0;
  const double waiting = rate_ * integrateExp(-theta_, 0, patience_, shift_) + tail_;
  z_ = idle + waiting;
  if (std::isinf(z_)) {  // B underflowed: nobody waits
    waitProbability_ = 0;
    timeoutProbability_ = 0;
  } else {
    waitProbability_ = waiting / z_;
    timeoutProbability_ = tail_ / z_;
  }
  idleProbability_ = 1.0 - waitProbability_;
  atTimeout_ = -1;
}

double MmcdQueue::busy() const { return lambda_ * (1.0 - timeoutProbability_) / mu_; }

double MmcdQueue::meanWait() const {
  if (waitProbability_ <= 0) return 0;
  const double m1 = integrateLinearExp(theta_, patience_, shift_);
  return (rate_ * m1 + tail_ * patience_) / z_;
}

double MmcdQueue::waitSurvival(double t) const {
  if (t < 0) return 1;
  if (t >= patience_ || waitProbability_ <= 0) return 0;
  return (rate_ * integrateExp(-theta_, t, patience_, shift_) + tail_) / z_;
}

double MmcdQueue::waitQuantile(double survival) const {
  if (waitProbability_ <= survival) return 0;
  if (timeoutProbability_ >= survival) return patience_;
  const double g = (survival * z_ - tail_) / rate_;  // int_t^D e^{-theta v - s} dv
  double t;
  if (theta_ == 0) {
    t = patience_ - g;
  } else if (tail_ > 0) {
    const double x = theta_ * g / tail_;
    t = std::abs(x) < 1e-10 ? patience_ - g / tail_ : patience_ - std::log1p(x) / theta_;
  } else {  // theta D so large that e^{-theta D} underflowed: theta > 0, s == 0
    t = -std::log(theta_ * g) / theta_;
  }
  return std::clamp(t, 0.0, patience_);
}

double MmcdQueue::inService(double t) const {
  const double m = std::min(t, patience_);
  double served = idleProbability_ * exp0(-mu_ * t);
  if (waitProbability_ > 0) {
    served += rate_ * integrateExp(mu_ - theta_, 0, m, shift_ + mu_ * t) / z_;
  }
  return served;
}

void MmcdQueue::evaluateBeforeTimeout(double t, double& served, double& waiting) const {
  // The Newton loop's hot path: both parts from two exponentials, e^{-mu t}
  // and e^{-theta t - s}; the general integrals only where the differences
  // of exponentials would cancel.
  const double e2 = exp0(-mu_ * t);
  served = idleProbability_ * e2;
  waiting = 0;
  if (waitProbability_ <= 0) return;
  const double e1 = exp0(-theta_ * t - shift_);
  const double rest = std::abs(theta_) * (patience_ - t);
  const double waitIntegral = rest > kCancellation ? (e1 - tail_) / theta_
                                                   : integrateExp(-theta_, t, patience_, shift_);
  waiting = (rate_ * waitIntegral + tail_) / z_;
  const double k = mu_ - theta_;
  const double serviceIntegral = std::abs(k) * t > kCancellation
                                     ? (e1 - scale_ * e2) / k
                                     : integrateExp(k, 0, t, shift_ + mu_ * t);
  served += rate_ * serviceIntegral / z_;
}

double MmcdQueue::latencySurvival(double t) const {
  if (t < 0) return 1;
  double s = inService(t);
  if (t < patience_) s += waitSurvival(t);
  return std::min(s, 1.0);
}

double MmcdQueue::latencyQuantile(double survival, double hint) const {
  if (survival >= 1) return 0;
  survival = std::max(survival, 1e-12);
  if (atTimeout_ < 0) atTimeout_ = inService(patience_);
  const double atTimeout = atTimeout_;  // survival just after D
  if (survival < atTimeout) {
    // Past D only the service tail is left: e^{-mu (t - D)} times its value at D.
    return patience_ + std::log(atTimeout / survival) / mu_;
  }
  if (survival <= atTimeout + timeoutProbability_) return patience_;
  // Root in [0, D): safeguarded Newton, S' = -mu * inService.
  double lo = 0, hi = patience_;
  double t = (hint > lo && hint < hi) ? hint : 0.5 * (lo + hi);
  for (int i = 0; i < kMaxNewtonIterations; ++i) {
    double served = 0, waiting = 0;
    evaluateBeforeTimeout(t, served, waiting);
    const double f = std::min(1.0, served + waiting) - survival;
    if (std::abs(f) <= kSurvivalTolerance * survival) break;  // e.g. the hint was the answer
    if (f > 0) lo = t; else hi = t;
    const double slope = mu_ * served;
    double next = slope > 0 ? t + f / slope : -1.0;
    const bool newton = next >= lo && next <= hi;
    if (!newton) next = 0.5 * (lo + hi);
    const double scale = std::max(t, kMinQuantileScale);
    // Newton converges quadratically: after a step of relative size e the
    // error is about e^2, so a Newton step below kNewtonStep is final.
    const bool done = (newton && std::abs(next - t) <= kNewtonStep * scale) ||
                      hi - lo <= kNewtonTolerance * scale;
    t = next;
    if (done) break;
  }
  return t;
}

}  // namespace trimtab::sim
