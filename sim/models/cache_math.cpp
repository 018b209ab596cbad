// SPDX-License-Identifier: Apache-2.0
#include "cache_math.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trimtab::sim {
namespace {

constexpr double kExactTerms = 100000;
constexpr int kMaxCheIterations = 200;
constexpr double kCheTolerance = 1e-12;

// sum_{r=m+1}^{n} r^{-s} by Euler-Maclaurin with two correction terms.
double zipfTail(double m, double n, double s) {
  if (n <= m) return 0;
  const double integral = std::abs(1.0 - s) < 1e-12
                              ? std::log(n / m)
                              : (std::pow(n, 1.0 - s) - std::pow(m, 1.0 - s)) / (1.0 - s);
  const double fm = std::pow(m, -s), fn = std::pow(n, -s);
  const double dfm = -s * fm / m, dfn = -s * fn / n;
  return integral + (fn - fm) / 2.0 + (dfn - dfm) / 12.0;
}

}  // namespace

double ttlHitProbability(double rate, double ttl) {
  const double x = rate * ttl;
  if (!(x > 0)) return 0;
  return x / (1.0 + x);
}

double cheHitProbability(double rate, double characteristicTime) {
  const double x = rate * characteristicTime;
  if (!(x > 0)) return 0;
  return -std::expm1(-x);
}

double cheCharacteristicProduct(const std::vector<KeyClass>& classes, double capacity) {
  double total = 0;
  for (const auto& c : classes) total += c.keys;
  if (capacity >= total) return std::numeric_limits<double>::infinity();
  if (capacity <= 0) return 0;
  // f(y) = sum keys (1 - e^{-p y}) is increasing and concave: Newton from
  // y = 0 climbs monotonically to the root without overshooting.
  double y = 0;
  for (int i = 0; i < kMaxCheIterations; ++i) {
    double f = 0, slope = 0;
    for (const auto& c : classes) {
      const double e = std::exp(-c.probPerKey * y);
      f += c.keys * (1.0 - e);
      slope += c.keys * c.probPerKey * e;
    }
    if (!(slope > 0)) break;
    const double next = y + (capacity - f) / slope;
    if (std::abs(next - y) <= kCheTolerance * std::max(1.0, y)) {
      y = next;
      break;
    }
    y = next;
  }
  return y;
}

double periodicTtlHitProbability(double period, double ttl) {
  if (!(ttl > period) || !(period > 0)) return ttl > 0 && period <= 0 ? 1.0 : 0.0;
  return 1.0 - 1.0 / std::ceil(ttl / period);
}

double staleHitFraction(double changeRate, double life) {
  const double x = changeRate * life;
  if (!(x > 0)) return 0;
  if (x < 1e-6) return x / 2.0;
  if (std::isinf(x)) return 1.0;
  return 1.0 + std::expm1(-x) / x;
}

double zipfHarmonic(double n, double s) { return zipfHarmonicAt({n}, s)[0]; }

std::vector<double> zipfHarmonicAt(const std::vector<double>& ns, double s) {
  std::vector<double> out;
  out.reserve(ns.size());
  double sum = 0, r = 0;
  for (double n : ns) {
    const double exactTo = std::min(std::floor(n), kExactTerms);
    while (r < exactTo) {
      r += 1;
      sum += std::pow(r, -s);
    }
    out.push_back(n > kExactTerms ? sum + zipfTail(kExactTerms, std::floor(n), s) : sum);
  }
  return out;
}

}  // namespace trimtab::sim
