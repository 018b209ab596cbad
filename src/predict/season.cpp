// SPDX-License-Identifier: Apache-2.0
#include "predict/season.h"

#include <algorithm>
#include <complex>
#include <numeric>
#include <unsupported/Eigen/FFT>

namespace trimtab {

std::vector<double> detrend(std::span<const double> values) {
  std::size_t n = values.size();
  std::vector<double> out(values.begin(), values.end());
  if (n < 2) return out;
  double xm = (static_cast<double>(n) - 1) / 2, ym = 0;
  for (double v : values) ym += v;
  ym /= static_cast<double>(n);
  double sxy = 0, sxx = 0;
  for (std::size_t i = 0; i < n; ++i) {
    double dx = static_cast<double>(i) - xm;
    sxy += dx * (values[i] - ym);
    sxx += dx * dx;
  }
  double b = sxx > 0 ? sxy / sxx : 0;
  for (std::size_t i = 0; i < n; ++i) out[i] = values[i] - ym - b * (static_cast<double>(i) - xm);
  return out;
}

std::vector<double> autocorrelation(std::span<const double> x, std::size_t maxLag) {
  // Wiener-Khinchin: the autocovariance is the inverse transform of the
  // power spectrum; zero padding to twice the length avoids wrap-around.
  // O(n log n) instead of O(n * maxLag).
  std::size_t n = x.size();
  std::size_t size = 1;
  while (size < 2 * n) size *= 2;
  std::vector<double> padded(size, 0.0);
  std::copy(x.begin(), x.end(), padded.begin());
  Eigen::FFT<double> fft;
  std::vector<std::complex<double>> spectrum;
  fft.fwd(spectrum, padded);
  for (auto& c : spectrum) c = std::norm(c);
  std::vector<double> acov;
  fft.inv(acov, spectrum);
  std::vector<double> out;
  if (acov.empty() || !(acov[0] > 0)) return out;
  maxLag = std::min(maxLag, n - 1);
  out.resize(maxLag + 1);
  for (std::size_t k = 0; k <= maxLag; ++k) out[k] = acov[k] / acov[0];
  return out;
}

std::optional<Season> detectSeason(std::span<const double> values, double minAcf) {
  std::size_t n = values.size();
  if (n < 2 * kMinSeasonPeriod + 2) return std::nullopt;
  std::vector<double> x = detrend(values);
  std::size_t maxLag = n / 2;
  std::vector<double> acf = autocorrelation(x, maxLag + 1);
  if (acf.empty()) return std::nullopt;
  acf.resize(maxLag + 2, 0.0);
  std::size_t k = 1;
  while (k <= maxLag && acf[k] >= 0) ++k;
  std::optional<Season> best;
  for (; k <= maxLag; ++k) {
    if (k < kMinSeasonPeriod) continue;
    bool peak = acf[k] >= acf[k - 1] && acf[k] >= acf[k + 1];
    if (peak && acf[k] >= minAcf && (!best || acf[k] > best->acf)) best = Season{k, acf[k]};
  }
  return best;
}

std::vector<double> seasonalPattern(std::span<const double> values, std::size_t period) {
  std::vector<double> pattern(period, 0.0);
  if (period == 0) return pattern;
  std::vector<double> x = detrend(values);
  std::vector<int> count(period, 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    pattern[i % period] += x[i];
    ++count[i % period];
  }
  double mean = 0;
  for (std::size_t p = 0; p < period; ++p) {
    if (count[p]) pattern[p] /= count[p];
    mean += pattern[p];
  }
  mean /= static_cast<double>(period);
  for (double& v : pattern) v -= mean;
  return pattern;
}

}  // namespace trimtab
