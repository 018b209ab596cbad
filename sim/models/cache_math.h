// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <vector>

#include "sim_world.h"

namespace trimtab::sim {

// Closed forms of the cache model (docs/sim-models.md, "Cache").

// Non-resetting TTL cache (an entry lives `ttl` seconds from the miss that
// inserted it; hits do not extend it), Poisson requests at `rate`: each cycle
// is one miss then rate*ttl hits on average, so h = rate ttl / (1 + rate ttl).
double ttlHitProbability(double rate, double ttl);

// LRU cache of capacity C, Che's approximation: a key is in the cache when it
// was requested within the characteristic time T_C, h = 1 - e^{-rate T_C}.
double cheHitProbability(double rate, double characteristicTime);

// Che's characteristic time depends on the request rate L only through
// y = L T_C: the y with sum_j keys_j (1 - e^{-p_j y}) = capacity, p_j the
// per-key access probability. +infinity when the capacity holds every key.
double cheCharacteristicProduct(const std::vector<KeyClass>& classes, double capacity);

// A key read exactly every `period` seconds (a sequential scan) in a
// non-resetting TTL cache: 1 - 1/ceil(ttl/period) of its reads hit.
double periodicTtlHitProbability(double period, double ttl);

// Fraction of hits that return stale data when each key's data changes as a
// Poisson process of rate `changeRate` and hits fall uniformly over the
// entry's life: 1 - (1 - e^{-nu life}) / (nu life).
double staleHitFraction(double changeRate, double life);

// Zipf normalizers: sum_{r=1}^{n} r^{-s}, exact up to kExactTerms terms and
// Euler-Maclaurin beyond (relative error < 1e-12).
double zipfHarmonic(double n, double s);

// Partial sums H(n_1), H(n_2), ... for increasing n_i in one pass.
std::vector<double> zipfHarmonicAt(const std::vector<double>& ns, double s);

}  // namespace trimtab::sim
