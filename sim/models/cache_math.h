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

// One key's entry in a cache with both a non-resetting TTL and an LRU
// capacity, Poisson requests at `rate`. With the TTL approximation of LRU
// (Che; Fricker, Robert, Roberts) the entry leaves at the first of: `ttl`
// after the miss that inserted it, or `characteristicTime` after its last
// request. `life` is its mean life D; a cycle is one miss, D of life, then
// an exponential wait for the next miss, so `hit` = rate D / (1 + rate D)
// (the renewal argument of Jung, Berger, Balakrishnan). `stale` is the
// share of hits whose data changed (Poisson, `changeRate`) since the miss.
// Exact for ttl <= characteristicTime (then D = ttl) and for ttl -> infinity
// (Che's 1 - e^{-rate T_C}); between, the LRU life past T_C is taken as
// exponential with the exact mean (docs/sim-models.md, "Cache").
struct EntryLife {
  double life = 0;   // seconds
  double hit = 0;    // probability that a request hits
  double stale = 0;  // fraction of the hits that are stale
};
EntryLife ttlLruEntry(double rate, double ttl, double characteristicTime, double changeRate);

// The characteristic product y = L T_C of a TTL + LRU cache: the y with
// sum_j keys_j h_j = capacity, h_j = ttlLruEntry(p_j, lookupsPerTtl, y).hit
// (the hit ratio depends on the rate only through L T and L T_C).
// +infinity when the TTL alone keeps fewer entries than the capacity (the
// LRU never evicts). `lruProduct` is cheCharacteristicProduct(classes,
// capacity), the lower end of the bracket (a TTL only shortens lives);
// `hint`, a solution for a nearby L T, narrows the bracket first (0: none).
double ttlLruCharacteristicProduct(const std::vector<KeyClass>& classes, double capacity,
                                   double lookupsPerTtl, double lruProduct, double hint = 0);

// Zipf normalizers: sum_{r=1}^{n} r^{-s}, exact up to kExactTerms terms and
// Euler-Maclaurin beyond (relative error < 1e-12).
double zipfHarmonic(double n, double s);

// Partial sums H(n_1), H(n_2), ... for increasing n_i in one pass.
std::vector<double> zipfHarmonicAt(const std::vector<double>& ns, double s);

}  // namespace trimtab::sim
