// SPDX-License-Identifier: Apache-2.0
#include "predict/crossing.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

#include "predict/normal.h"

namespace trimtab {

namespace {

constexpr int kGridSteps = 64;   // quadratic spacing: fine near now, coarse far out
constexpr int kBisections = 24;  // to 2^-24 of a grid cell

// The model's mean and standard error on the search grid, evaluated once
// and shared by the three envelopes (eta, early and late ends).
struct GridForecast {
  std::array<double, kGridSteps + 1> h;
  std::array<LevelForecast, kGridSteps + 1> f;
};

// First h in [0, maxH] where mean + excursion + k·se >= limit, or kNever.
Seconds firstCrossing(const Estimator& model, Seconds now, const GridForecast& g, double excursion, double k,
                      double limit) {
  auto above = [&](const LevelForecast& f) { return f.mean + excursion + k * f.se >= limit; };
  if (above(g.f[0])) return 0;
  for (int i = 1; i <= kGridSteps; ++i) {
    if (!above(g.f[i])) continue;
    double lo = g.h[i - 1], hi = g.h[i];
    for (int b = 0; b < kBisections; ++b) {
      double mid = (lo + hi) / 2;
      (above(model.at(now + mid)) ? hi : lo) = mid;
    }
    return hi;
  }
  return CrossingEstimate::kNever;
}

}  // namespace

namespace {

// Nearest-rank quantile of a small sorted array (kNever sorts last).
Seconds sortedQuantile(const std::array<Seconds, kMaxProfiles>& v, std::size_t n, double q) {
  auto i = static_cast<std::size_t>(std::lround(std::clamp(q, 0.0, 1.0) * static_cast<double>(n - 1)));
  return v[i];
}

// Replays each excursion profile over the mean path of the next horizon.
// Returns false when the model has no profiles for this horizon.
bool replay(const Estimator& model, Seconds now, double limit, Seconds horizon, double z, CrossingEstimate& out) {
  const ResidualStats& rs = model.residuals();
  if (rs.profiles.empty() || rs.profileHorizon != horizon) return false;
  const Seconds bin = horizon / static_cast<double>(kProfileBins);
  // f[0] is now, f[j + 1] the end of bin j (the mean rises within a bin, so
  // comparing a bin's largest excursion with the mean at its end errs early
  // by at most one bin).
  std::array<LevelForecast, kProfileBins + 1> f;
  for (std::size_t j = 0; j <= kProfileBins; ++j) f[j] = model.at(now + static_cast<double>(j) * bin);
  std::array<Seconds, kMaxProfiles> mid, early, late;
  const std::size_t n = rs.profiles.size();
  double p = 0;
  for (std::size_t k = 0; k < n; ++k) {
    const ExcursionProfile& r = rs.profiles[k];
    double best = -std::numeric_limits<double>::infinity();
    mid[k] = early[k] = late[k] = CrossingEstimate::kNever;
    for (std::size_t j = 0; j < kProfileBins; ++j) {
      const LevelForecast& a = f[j];
      const LevelForecast& b = f[j + 1];
      double gap = b.mean + r[j] - limit;
      best = std::max(best, b.se > 0 ? gap / b.se : (gap >= 0 ? std::numeric_limits<double>::infinity() : best));
      // First time within the bin where mean + k·se + excursion reaches the limit.
      auto cross = [&](double kse, Seconds& t) {
        if (std::isfinite(t)) return;
        double x1 = b.mean + kse * b.se + r[j] - limit;
        if (x1 < 0) return;
        double x0 = a.mean + kse * a.se + r[j] - limit;
        double frac = x0 >= 0 ? 0 : -x0 / (x1 - x0);
        t = (static_cast<double>(j) + frac) * bin;
      };
      cross(0, mid[k]);
      cross(z, early[k]);
      cross(-z, late[k]);
    }
    p += normalCdf(best) / static_cast<double>(n);
  }
  out.probability = std::clamp(p, 0.0, 1.0);
  std::sort(mid.begin(), mid.begin() + static_cast<std::ptrdiff_t>(n));
  std::sort(early.begin(), early.begin() + static_cast<std::ptrdiff_t>(n));
  std::sort(late.begin(), late.begin() + static_cast<std::ptrdiff_t>(n));
  Seconds median = sortedQuantile(mid, n, 0.5);
  if (std::isfinite(median)) {
    double tail = (1 - normalCdf(z));  // each end of the interval
    out.eta = median;
    out.low = std::min(median, sortedQuantile(early, n, tail));
    out.high = std::max(median, sortedQuantile(late, n, 1 - tail));
    out.found = true;
  } else if (out.found) {
    // Most replays stay below the limit within the horizon: the crossing,
    // if any, lies beyond it.
    out.eta = std::max(out.eta, horizon);
    out.high = std::max(out.high, out.eta);
  }
  return true;
}

}  // namespace

CrossingEstimate estimateCrossing(const Estimator& model, Seconds now, double limit, Seconds horizon, double level) {
  CrossingEstimate out;
  const auto& exc = model.residuals().excursions;
  double maxH = kCrossingSearchHorizons * horizon;
  GridForecast g;
  for (int i = 0; i <= kGridSteps; ++i) {
    double u = static_cast<double>(i) / kGridSteps;
    g.h[i] = maxH * u * u;
    g.f[i] = model.at(now + g.h[i]);
  }
  double z = normalQuantile(0.5 + std::clamp(level, 0.01, 0.999) / 2);
  // Far crossings: the mean plus the typical horizon-long excursion.
  out.eta = firstCrossing(model, now, g, exc[4], 0, limit);
  out.low = std::min(out.eta, firstCrossing(model, now, g, exc.back(), z, limit));
  out.high = std::max(out.eta, firstCrossing(model, now, g, exc.front(), -z, limit));
  out.found = std::isfinite(out.eta);
  if (replay(model, now, limit, horizon, z, out)) return out;

  // No profiles: the excursion deciles stand in for them.
  std::array<LevelForecast, kGridSteps + 2> f;
  int m = 0;
  for (int i = 0; i <= kGridSteps && g.h[i] < horizon; ++i) f[m++] = g.f[i];
  f[m++] = model.at(now + horizon);
  double p = 0;
  for (double e : exc) {
    double best = 0;
    for (int i = 0; i < m; ++i) {
      double gap = f[i].mean + e - limit;
      best = std::max(best, f[i].se > 0 ? normalCdf(gap / f[i].se) : (gap >= 0 ? 1.0 : 0.0));
    }
    p += best / static_cast<double>(exc.size());
  }
  out.probability = std::clamp(p, 0.0, 1.0);
  return out;
}

}  // namespace trimtab
