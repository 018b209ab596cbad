// SPDX-License-Identifier: Apache-2.0
#include "predict/residual_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trimtab {

double ar1VarianceFactor(double rho, double n) {
  if (!(rho > 0) || n < 3) return 1;
  rho = std::min(rho, kMaxRho1);
  // 1 + (2/n) Σ_{k=1}^{n-1} (n-k) ρ^k in closed form.
  double r1 = 1 - rho;
  double f = 1 + 2 * rho / r1 - 2 * rho * (1 - std::pow(rho, n)) / (n * r1 * r1);
  return std::max(f, 1.0);
}

double lag1Autocorrelation(std::span<const double> x) {
  std::size_t n = x.size();
  if (n < 3) return 0;
  double mean = 0;
  for (double v : x) mean += v;
  mean /= static_cast<double>(n);
  double num = 0, den = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double d = x[i] - mean;
    den += d * d;
    if (i > 0) num += d * (x[i - 1] - mean);
  }
  return den > 0 ? num / den : 0;
}

double quantileInPlace(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  q = std::clamp(q, 0.0, 1.0);
  double pos = q * static_cast<double>(values.size() - 1);
  std::size_t i = static_cast<std::size_t>(pos);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(i), values.end());
  double lo = values[i];
  if (i + 1 >= values.size()) return lo;
  double hi = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(i) + 1, values.end());
  return lo + (pos - static_cast<double>(i)) * (hi - lo);
}

namespace {

constexpr double kStretchesPerHorizon = 4;
// At most this many stretches: a horizon tiny against the window (a policy
// may ask for any) would otherwise mean a stride too small to move a Unix
// timestamp, and a loop the CPU budget cannot stop (it runs in C++).
constexpr int kMaxStretches = 4096;

// The stride between stretches: a quarter horizon, or longer when the
// window holds more than kMaxStretches of them.
Seconds strideFor(Seconds horizon, Seconds span) {
  return std::max(horizon / kStretchesPerHorizon, span / kMaxStretches);
}

// Largest residual of every horizon-long stretch ending at the newest
// residual and every quarter horizon before (strideFor), back to the first.
std::vector<double> stretchMaxima(std::span<const Point> r, Seconds horizon) {
  std::vector<double> maxima;
  Seconds first = r.front().t, last = r.back().t;
  if (!(horizon > 0) || last - first < horizon) {
    double largest = r.front().v;
    for (const Point& p : r) largest = std::max(largest, p.v);
    maxima.push_back(largest);
    return maxima;
  }
  const Seconds stride = strideFor(horizon, last - first);
  std::size_t hi = r.size();  // one past the stretch's newest residual
  Seconds end = last;
  for (int k = 0; k <= kMaxStretches && end - horizon >= first - 1e-9 * horizon; ++k, end -= stride) {
    while (hi > 0 && r[hi - 1].t > end) --hi;
    double m = -std::numeric_limits<double>::infinity();
    for (std::size_t i = hi; i > 0 && r[i - 1].t > end - horizon; --i) m = std::max(m, r[i - 1].v);
    if (std::isfinite(m)) maxima.push_back(m);  // a stretch inside a gap has none
  }
  if (maxima.empty()) maxima.push_back(r.back().v);
  return maxima;
}

std::vector<ExcursionProfile> excursionProfiles(std::span<const Point> r, Seconds horizon) {
  std::vector<ExcursionProfile> out;
  if (!(horizon > 0)) return out;
  Seconds first = r.front().t, last = r.back().t;
  Seconds bin = horizon / static_cast<double>(kProfileBins);
  const Seconds stride = strideFor(horizon, last - first);
  Seconds newestStart = std::max(first, last - horizon);
  Seconds start = newestStart;
  for (int k = 0; k <= kMaxStretches && out.size() < kMaxProfiles; ++k, start -= stride) {
    if (start < first - 1e-9 * horizon) break;
    ExcursionProfile p;
    p.fill(-std::numeric_limits<double>::infinity());
    auto lo = std::lower_bound(r.begin(), r.end(), start, [](const Point& q, Seconds t) { return q.t < t; });
    for (auto it = lo; it != r.end() && it->t < start + horizon; ++it) {
      auto j = std::min(static_cast<std::size_t>((it->t - start) / bin), kProfileBins - 1);
      p[j] = std::max(p[j], it->v);
    }
    // Bins without samples (sampling coarser than a bin, a gap, or a history
    // shorter than the horizon) repeat the filled pattern before them.
    std::size_t filled = 0;
    while (filled < kProfileBins && std::isfinite(p[filled])) ++filled;
    if (filled == 0) {
      auto firstFilled = std::find_if(p.begin(), p.end(), [](double v) { return std::isfinite(v); });
      if (firstFilled == p.end()) continue;
      p[0] = *firstFilled;
      filled = 1;
    }
    for (std::size_t j = filled; j < kProfileBins; ++j) {
      if (!std::isfinite(p[j])) p[j] = p[j - filled];
    }
    out.push_back(p);
    if (start <= first) break;
  }
  return out;
}

}  // namespace

ResidualStats summarizeResiduals(std::span<const Point> residuals, Seconds horizon) {
  ResidualStats s;
  std::size_t n = residuals.size();
  if (n == 0) return s;
  std::vector<double> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = residuals[i].v;
  double mean = 0;
  for (double v : r) mean += v;
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double v : r) ss += (v - mean) * (v - mean);
  s.sd = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0;
  s.rho1 = lag1Autocorrelation(r);
  // Yue-Wang: correct only a significant positive autocorrelation.
  if (s.rho1 > 1.96 / std::sqrt(static_cast<double>(n))) {
    s.inflation = ar1VarianceFactor(s.rho1, static_cast<double>(n));
  }
  s.profiles = excursionProfiles(residuals, horizon);
  s.profileHorizon = s.profiles.empty() ? 0 : horizon;
  std::vector<double> maxima = stretchMaxima(residuals, horizon);
  for (std::size_t d = 0; d < s.excursions.size(); ++d) {
    std::vector<double> copy = maxima;
    s.excursions[d] = std::max(quantileInPlace(copy, 0.1 * static_cast<double>(d + 1)), 0.0);
  }
  return s;
}

}  // namespace trimtab
