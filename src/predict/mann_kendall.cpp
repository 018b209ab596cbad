// SPDX-License-Identifier: Apache-2.0
#include "predict/mann_kendall.h"

#include <algorithm>
#include <cmath>

#include "predict/normal.h"

namespace trimtab {

MannKendallResult mannKendall(std::span<const double> x, double varianceFactor) {
  MannKendallResult r;
  std::size_t n = x.size();
  r.n = n;
  if (n < 3) return r;
  long long s = 0;
  for (std::size_t i = 0; i + 1 < n; ++i) {
    double xi = x[i];
    long long si = 0;
    for (std::size_t j = i + 1; j < n; ++j) si += (x[j] > xi) - (x[j] < xi);
    s += si;
  }
  // Ties: Var(S) = [n(n-1)(2n+5) - Σ t(t-1)(2t+5)] / 18 over groups of equal values.
  std::vector<double> sorted(x.begin(), x.end());
  std::sort(sorted.begin(), sorted.end());
  double tieTerm = 0;
  for (std::size_t i = 0; i < n;) {
    std::size_t j = i + 1;
    while (j < n && sorted[j] == sorted[i]) ++j;
    double t = static_cast<double>(j - i);
    tieTerm += t * (t - 1) * (2 * t + 5);
    i = j;
  }
  double dn = static_cast<double>(n);
  r.s = static_cast<double>(s);
  r.varS = std::max((dn * (dn - 1) * (2 * dn + 5) - tieTerm) / 18.0, 0.0) * std::max(varianceFactor, 1.0);
  r.tau = r.s / (dn * (dn - 1) / 2);
  if (r.varS <= 0) return r;  // all values equal: no evidence either way
  double sd = std::sqrt(r.varS);
  r.z = s > 0 ? (r.s - 1) / sd : s < 0 ? (r.s + 1) / sd : 0;
  r.pTwoSided = std::min(1.0, 2 * normalSf(std::abs(r.z)));
  r.pUp = normalSf(r.z);
  r.pDown = normalCdf(r.z);
  return r;
}

std::vector<double> trendSample(std::span<const Point> points, std::size_t maxPoints) {
  std::vector<double> out;
  std::size_t n = points.size();
  if (maxPoints == 0) maxPoints = 1;
  if (n <= maxPoints) {
    out.reserve(n);
    for (const Point& p : points) out.push_back(p.v);
    return out;
  }
  out.reserve(maxPoints);
  std::vector<double> bucket;
  for (std::size_t b = 0; b < maxPoints; ++b) {
    std::size_t from = b * n / maxPoints, to = (b + 1) * n / maxPoints;
    bucket.clear();
    for (std::size_t i = from; i < to; ++i) bucket.push_back(points[i].v);
    std::size_t mid = bucket.size() / 2;
    std::nth_element(bucket.begin(), bucket.begin() + static_cast<std::ptrdiff_t>(mid), bucket.end());
    out.push_back(bucket[mid]);
  }
  return out;
}

}  // namespace trimtab
