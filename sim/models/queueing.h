// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace trimtab::sim {

// Closed forms of the connection-pool model. All functions are total: any
// finite input >= 0 gives a finite result (no NaN, no infinity).

// Erlang B (loss probability of M/M/c/c) for `servers` >= 1 and offered load
// a = lambda/mu >= 0, by the recursion 1/B(k) = 1 + (k/a)/B(k-1): O(servers).
double erlangB(int servers, double offered);

// Erlang C: probability that an arrival waits in M/M/c (no timeout); 1 when
// a >= c (unstable queue).
double erlangC(int servers, double offered);

// Universal Scalability Law: throughput of n concurrent clients when one
// client alone achieves lambda1, X(n) = lambda1 n / (1 + sigma (n-1) + kappa n (n-1)).
double uslThroughput(double n, double lambda1, double sigma, double kappa);

// Service-time inflation at concurrency n: 1 + sigma (n-1) + kappa n (n-1),
// with n below 1 counted as 1 (one query alone sees no contention).
double uslInflation(double n, double sigma, double kappa);

// Mean-field concurrency at the database: the smallest N >= 0 with
// N = lambda * s0 * uslInflation(N), i.e. the busy connections when queries
// arrive at `lambda` per second and take s0 seconds alone. Returns a negative
// value when there is no such N (the offered load exceeds the USL peak).
double uslBusyFixedPoint(double lambda, double s0, double sigma, double kappa);

// The M/M/c+D queue: Poisson arrivals (lambda), c servers with exponential
// service (mu each), FCFS, and a deterministic patience D (the pool timeout):
// an arrival whose wait would reach D gives up at D (a timeout) and uses no
// server. Stationary for every load, so rho >= 1 needs no special case: the
// timeouts stabilise the queue (as D grows, the timeout fraction tends to
// 1 - c mu / lambda).
//
// With V the virtual wait, theta = c mu - lambda, r = c mu and B = Erlang B:
//   P(V = 0) = (1/B - 1) / Z,  density on (0, D) r e^{-theta v} / Z,
//   P(V >= D) = e^{-theta D} / Z,  Z = 1/B - 1 + r int_0^D e^{-theta v} dv + e^{-theta D}
// (level crossing of V; for D -> infinity and rho < 1 it is Erlang C with
// P(W > t) = C e^{-theta t}; for D = 0 the timeouts are Erlang B). Every term
// is kept scaled by e^{-s}, s = max(0, -theta D), so nothing overflows.
//
// Latency of a query: its wait plus an exponential service if it was served,
// or D if it timed out.
class MmcdQueue {
 public:
  // lambda >= 0, mu > 0, servers >= 1, patience >= 0 (clamped to kMaxPatience).
  void solve(double lambda, double mu, int servers, double patience);

  double waitProbability() const { return waitProbability_; }        // P(V > 0)
  double timeoutProbability() const { return timeoutProbability_; }  // P(V >= D)
  double busy() const;                       // mean busy servers (served load)
  double meanWait() const;                   // E[min(V, D)]
  double waitSurvival(double t) const;       // P(min(V, D) > t)
  double waitQuantile(double survival) const;  // t with P(min(V, D) > t) = survival
  double latencySurvival(double t) const;    // P(latency > t)
  // t with P(latency > t) = survival (e.g. 0.05 for the p95). `hint` (the
  // caller's previous answer, or < 0) only speeds up the Newton iteration.
  double latencyQuantile(double survival, double hint = -1) const;

  static constexpr double kMaxPatience = 1e7;

 private:
  double inService(double t) const;  // P(in service at t after arrival), = -S'(t)/mu
  // For t < D: inService(t) and waitSurvival(t) together, from two exponentials.
  void evaluateBeforeTimeout(double t, double& served, double& waiting) const;

  double lambda_ = 0, mu_ = 1, servers_ = 1, patience_ = 0;
  double theta_ = 0, rate_ = 1;       // c mu - lambda, c mu
  double shift_ = 0, scale_ = 1;      // s, e^{-s}
  double z_ = 1;                      // Z, scaled by e^{-s}
  double tail_ = 0;                   // e^{-theta D - s}
  double waitProbability_ = 0, timeoutProbability_ = 0, idleProbability_ = 1;
  mutable double atTimeout_ = -1;     // inService(D), computed on first use
};

// int_{x0}^{x1} e^{k x - shift} dx for x1 >= x0, accurate for tiny |k|, and
// without overflow when shift >= the largest exponent on the interval.
double integrateExp(double k, double x0, double x1, double shift);

}  // namespace trimtab::sim
