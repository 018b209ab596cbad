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
constexpr double kProductTolerance = 1e-8;   // relative, on log y and on the occupancy
constexpr double kHintWidth = 0.1;           // first bracket around the last solution (log y)

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

namespace {

// (1 - e^{-z}) / z, 1 at z = 0, 0 at z = +infinity.
double expShare(double z) {
  if (z < 1e-8) return 1.0 - z / 2.0;
  return -std::expm1(-z) / z;
}

}  // namespace

EntryLife ttlLruEntry(double rate, double ttl, double characteristicTime, double changeRate) {
  EntryLife e;
  const double t = std::max(0.0, ttl);
  const double tc = std::max(0.0, characteristicTime);
  if (!(t > tc)) {
    // The LRU never evicts before the TTL: a plain TTL entry.
    e.life = t;
    e.hit = ttlHitProbability(rate, t);
    e.stale = staleHitFraction(changeRate, t);
    return e;
  }
  if (!(rate > 0)) {
    e.life = tc;
    return e;
  }
  // Survival of the entry's age A: 1 up to T_C; past it, alive while no gap
  // between requests reached T_C: (1 - q) e^{-(A - T_C)/mu}, q = e^{-r T_C}
  // (no request within T_C of the miss), mu = the mean of the geometric sum
  // of the shorter gaps, exponential past T_C (Renyi); cut at the TTL.
  // Four transcendental calls in all: this runs per class per refresh.
  const double u = rate * tc;
  const double oneMinusQ = -std::expm1(-u);
  const double q = 1.0 - oneMinusQ;
  // r times the mean of a gap shorter than T_C: 1 - u / (e^u - 1), u/2 near 0.
  const double shortGap = u < 1e-4 ? u / 2.0 - u * u / 12.0 : 1.0 - u * q / oneMinusQ;
  const double invMu = q > 0 ? rate * q / shortGap : 0.0;
  const double a = t - tc;  // the part of the TTL beyond T_C
  e.life = tc + oneMinusQ * a * expShare(a * invMu);
  const double x = rate * e.life;
  e.hit = x / (1.0 + x);
  const double nu = std::max(0.0, changeRate);
  if (nu > 0 && e.life > 0) {
    // Hits fall on ages with density S(A) / life; a hit at age A is stale
    // with probability 1 - e^{-nu A}.
    const double head = expShare(nu * tc);
    const double decay = 1.0 - nu * tc * head;  // e^{-nu T_C}
    const double fresh = tc * head + oneMinusQ * decay * a * expShare(a * (invMu + nu));
    e.stale = std::clamp(1.0 - fresh / e.life, 0.0, 1.0);
  }
  return e;
}

double ttlLruCharacteristicProduct(const std::vector<KeyClass>& classes, double capacity,
                                   double lookupsPerTtl, double lruProduct, double hint) {
  const double inf = std::numeric_limits<double>::infinity();
  if (capacity <= 0) return 0;
  const double x = lookupsPerTtl;
  auto occupancy = [&](double y) {
    double f = 0;
    for (const auto& c : classes) f += c.keys * ttlLruEntry(c.probPerKey, x, y, 0).hit;
    return f;
  };
  // At y = x (T_C = TTL) every class is a plain TTL entry: the most it holds.
  if (!(x > 0) || occupancy(x) <= capacity) return inf;
  double lo = std::isfinite(lruProduct) && lruProduct > 0 ? std::min(lruProduct, x) : x * 1e-12;
  // Illinois (regula falsi) on log y within [lo, x]: f(lo) <= C < f(x).
  double slo = std::log(lo), shi = std::log(x);
  double flo = occupancy(lo) - capacity, fhi = occupancy(x) - capacity;
  if (flo >= 0) return lo;
  // From the last solution, a bracket 10 % wide usually holds the new root.
  if (hint > lo && hint < x) {
    for (double s = std::log(hint), w = kHintWidth; s > slo && s < shi; w *= 4) {
      const double f = occupancy(std::exp(s)) - capacity;
      if (std::abs(f) <= kProductTolerance * capacity) return std::exp(s);
      if (f < 0) {
        slo = s, flo = f;
        s = std::min(s + w, shi);
      } else {
        shi = s, fhi = f;
        s = std::max(s - w, slo);
      }
      if (s == slo || s == shi) break;
    }
  }
  int side = 0;
  for (int i = 0; i < kMaxCheIterations && shi - slo > kProductTolerance; ++i) {
    const double s = shi - fhi * (shi - slo) / (fhi - flo);
    const double f = occupancy(std::exp(s)) - capacity;
    if (std::abs(f) <= kProductTolerance * capacity) return std::exp(s);
    if (f < 0) {
      slo = s, flo = f;
      if (side == -1) fhi /= 2;
      side = -1;
    } else {
      shi = s, fhi = f;
      if (side == 1) flo /= 2;
      side = 1;
    }
  }
  return std::exp(0.5 * (slo + shi));
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
