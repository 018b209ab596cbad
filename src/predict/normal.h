// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>

namespace trimtab {

// Standard normal distribution function.
inline double normalCdf(double x) { return 0.5 * std::erfc(-x / std::sqrt(2.0)); }

// Upper tail 1 - normalCdf(x), accurate for large x.
inline double normalSf(double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); }

// Inverse of normalCdf. REQUIRES: 0 < p < 1 (clamped otherwise).
// Acklam's rational approximation plus one Halley step: |error| < 1e-12.
double normalQuantile(double p);

}  // namespace trimtab
