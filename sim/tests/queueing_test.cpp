// SPDX-License-Identifier: Apache-2.0
#include "sim/models/queueing.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

using namespace trimtab::sim;

namespace {

// Erlang C from its textbook definition, summing a^k/k! in long double: an
// independent check of the recursion used by the model.
double erlangCBySums(int c, double a) {
  long double term = 1, sum = 0;
  for (int k = 0; k < c; ++k) {
    sum += term;
    term *= a / (k + 1);
  }
  const long double top = term * c / (c - a);  // a^c/c! * c/(c-a)
  return static_cast<double>(top / (sum + top));
}

double exponential(std::mt19937_64& rng, double rate) {
  const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
  return -std::log1p(-u) / rate;
}

struct MonteCarlo {
  double waitProbability = 0, timeoutProbability = 0, meanWait = 0, latencyP95 = 0;
};

// FCFS M/M/c+D by direct simulation: a customer starts at the earliest time a
// server frees up; if that is D or more after its arrival it times out and
// takes no server.
MonteCarlo simulateMmcd(double lambda, double mu, int c, double d, int customers, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> freeAt(static_cast<std::size_t>(c), 0.0);
  std::vector<double> latency;
  latency.reserve(static_cast<std::size_t>(customers));
  double t = 0, waited = 0, timedOut = 0, waitSum = 0;
  const int warmup = customers / 10;
  int counted = 0;
  for (int i = 0; i < customers + warmup; ++i) {
    t += exponential(rng, lambda);
    auto server = std::min_element(freeAt.begin(), freeAt.end());
    const double wait = std::max(0.0, *server - t);
    const bool timeout = wait >= d;
    const double service = exponential(rng, mu);
    if (!timeout) *server = t + wait + service;
    if (i < warmup) continue;
    ++counted;
    if (wait > 0) waited += 1;
    if (timeout) timedOut += 1;
    waitSum += std::min(wait, d);
    latency.push_back(timeout ? d : wait + service);
  }
  std::sort(latency.begin(), latency.end());
  MonteCarlo r;
  r.waitProbability = waited / counted;
  r.timeoutProbability = timedOut / counted;
  r.meanWait = waitSum / counted;
  r.latencyP95 = latency[static_cast<std::size_t>(0.95 * latency.size())];
  return r;
}

bool isFinite(double x) { return std::isfinite(x); }

}  // namespace

TEST_CASE("Erlang C matches the published table values") {
  CHECK(erlangC(2, 1.0) == doctest::Approx(1.0 / 3.0).epsilon(1e-12));
  CHECK(erlangC(10, 8.0) == doctest::Approx(0.4092).epsilon(1e-3));
  CHECK(erlangC(1, 0.5) == doctest::Approx(0.5).epsilon(1e-12));  // M/M/1: C = rho
  CHECK(erlangB(1, 1.0) == doctest::Approx(0.5));
  CHECK(erlangB(2, 1.0) == doctest::Approx(0.2));
  CHECK(erlangC(10, 10.0) == 1.0);
  CHECK(erlangC(3, 7.0) == 1.0);
}

TEST_CASE("Erlang C agrees with an independent computation over a grid") {
  for (int c : {1, 2, 3, 5, 10, 20, 50, 100}) {
    for (double rho : {0.05, 0.3, 0.5, 0.8, 0.95, 0.99}) {
      const double a = rho * c;
      CAPTURE(c);
      CAPTURE(a);
      CHECK(erlangC(c, a) == doctest::Approx(erlangCBySums(c, a)).epsilon(1e-9));
    }
  }
}

TEST_CASE("USL curve values and the concurrency fixed point") {
  CHECK(uslThroughput(1, 100, 0.1, 0.01) == doctest::Approx(100));
  CHECK(uslThroughput(10, 100, 0.1, 0.01) == doctest::Approx(1000.0 / 2.8));
  CHECK(uslThroughput(32, 100, 0.1, 0.01) == doctest::Approx(3200.0 / 14.02));
  CHECK(uslThroughput(0, 100, 0.1, 0.01) == 0);
  // Amdahl (kappa = 0) is monotone; with kappa > 0 the peak is sqrt((1-sigma)/kappa).
  const double peak = std::sqrt(0.9 / 0.01);
  const double xPeak = uslThroughput(peak, 100, 0.1, 0.01);
  CHECK(xPeak > uslThroughput(peak - 1, 100, 0.1, 0.01));
  CHECK(xPeak > uslThroughput(peak + 1, 100, 0.1, 0.01));
  CHECK(uslInflation(0.3, 0.1, 0.01) == 1.0);
  for (double lambda : {50.0, 150.0, 300.0, 350.0}) {
    const double n = uslBusyFixedPoint(lambda, 0.01, 0.1, 0.01);
    CAPTURE(lambda);
    REQUIRE(n >= 0);
    CHECK(n == doctest::Approx(lambda * 0.01 * uslInflation(n, 0.1, 0.01)).epsilon(1e-9));
    CHECK(n <= peak);  // the stable branch
  }
  CHECK(uslBusyFixedPoint(xPeak * 1.01, 0.01, 0.1, 0.01) < 0);  // beyond the peak: none
  CHECK(uslBusyFixedPoint(0.5, 1.0, 0.1, 0.01) == doctest::Approx(0.5));
}

TEST_CASE("M/M/c+D reduces to Erlang C without timeout and to Erlang B with a zero timeout") {
  MmcdQueue q;
  const double lambda = 8, mu = 1;
  q.solve(lambda, mu, 10, MmcdQueue::kMaxPatience);
  const double c = erlangC(10, 8);
  CHECK(q.waitProbability() == doctest::Approx(c).epsilon(1e-9));
  CHECK(q.timeoutProbability() == doctest::Approx(0).epsilon(1e-12));
  const double theta = 10 * mu - lambda;
  CHECK(q.meanWait() == doctest::Approx(c / theta).epsilon(1e-9));
  CHECK(q.waitSurvival(0.7) == doctest::Approx(c * std::exp(-theta * 0.7)).epsilon(1e-9));
  // p95 of the wait: C e^{-theta t} = 0.05.
  CHECK(q.waitQuantile(0.05) == doctest::Approx(std::log(c / 0.05) / theta).epsilon(1e-9));
  CHECK(q.busy() == doctest::Approx(8));

  q.solve(lambda, mu, 10, 0);
  CHECK(q.timeoutProbability() == doctest::Approx(erlangB(10, 8)).epsilon(1e-9));
}

TEST_CASE("M/M/c+D in overload: timeouts tend to 1 - c mu / lambda, all values finite") {
  MmcdQueue q;
  q.solve(20, 1, 10, 1000);
  CHECK(q.timeoutProbability() == doctest::Approx(0.5).epsilon(1e-6));
  CHECK(q.waitProbability() == doctest::Approx(1).epsilon(1e-9));
  CHECK(q.waitQuantile(0.05) == doctest::Approx(1000));
  CHECK(q.busy() == doctest::Approx(10).epsilon(1e-6));
  for (double lambda : {0.0, 1e-9, 9.999999, 10.0, 10.000001, 1e6, 1e12}) {
    for (double d : {0.0, 1e-6, 1.0, 30.0, 1e7}) {
      for (int c : {1, 10, 1000}) {
        q.solve(lambda, 1.0, c, d);
        CAPTURE(lambda);
        CAPTURE(d);
        CAPTURE(c);
        CHECK(isFinite(q.waitProbability()));
        CHECK(isFinite(q.timeoutProbability()));
        CHECK(isFinite(q.meanWait()));
        CHECK(isFinite(q.waitQuantile(0.05)));
        CHECK(isFinite(q.latencyQuantile(0.05)));
        CHECK(isFinite(q.busy()));
        CHECK(q.waitProbability() >= 0);
        CHECK(q.waitProbability() <= 1 + 1e-12);
        CHECK(q.timeoutProbability() <= q.waitProbability() + 1e-12);
      }
    }
  }
}

TEST_CASE("M/M/c+D agrees with a direct simulation of the queue") {
  struct Case { double lambda, mu; int c; double d; };
  for (const Case& k : {Case{3.2, 1, 4, 2.0}, Case{4.4, 1, 4, 2.0}, Case{9, 1, 10, 0.5}}) {
    CAPTURE(k.lambda);
    MmcdQueue q;
    q.solve(k.lambda, k.mu, k.c, k.d);
    const MonteCarlo mc = simulateMmcd(k.lambda, k.mu, k.c, k.d, 400000, 7);
    CHECK(q.waitProbability() == doctest::Approx(mc.waitProbability).epsilon(0.03));
    CHECK(q.timeoutProbability() == doctest::Approx(mc.timeoutProbability).epsilon(0.06));
    CHECK(q.meanWait() == doctest::Approx(mc.meanWait).epsilon(0.04));
    CHECK(q.latencyQuantile(0.05) == doctest::Approx(mc.latencyP95).epsilon(0.03));
  }
}

TEST_CASE("latency quantile solves the survival equation") {
  MmcdQueue q;
  q.solve(0.01, 10, 5, 30);  // idle: latency is the service time
  CHECK(q.latencyQuantile(0.05) == doctest::Approx(std::log(20.0) / 10).epsilon(1e-6));
  q.solve(45, 1, 50, 10);
  for (double level : {0.5, 0.1, 0.05, 0.01, 0.001}) {
    const double t = q.latencyQuantile(level);
    CAPTURE(level);
    CHECK(q.latencySurvival(t) == doctest::Approx(level).epsilon(1e-6));
    // The hint changes the path, not the answer.
    CHECK(q.latencyQuantile(level, t * 0.5) == doctest::Approx(t).epsilon(1e-8));
  }
  // Wherever the quantile falls (before, at or after the timeout, where the
  // survival jumps down by the timeout probability), it brackets the level.
  struct Case { double lambda, mu; int c; double d; };
  for (const Case& k : {Case{30, 1, 10, 2}, Case{105, 10, 10, 0.5}, Case{99, 10, 10, 0.05},
                        Case{1000, 10, 10, 1}, Case{5, 1, 10, 0}}) {
    q.solve(k.lambda, k.mu, k.c, k.d);
    const double t = q.latencyQuantile(0.05);
    CAPTURE(k.lambda);
    CAPTURE(k.d);
    CAPTURE(t);
    CHECK(q.latencySurvival(t - 1e-9) >= 0.05 - 1e-9);
    CHECK(q.latencySurvival(t + 1e-9) <= 0.05 + 1e-9);
  }
}

TEST_CASE("integrateExp is exact and does not overflow") {
  CHECK(integrateExp(0, 0, 2, 0) == doctest::Approx(2));
  CHECK(integrateExp(1, 0, 1, 0) == doctest::Approx(std::exp(1.0) - 1));
  CHECK(integrateExp(-2, 0, 1, 0) == doctest::Approx((1 - std::exp(-2.0)) / 2));
  CHECK(integrateExp(1e-15, 0, 3, 0) == doctest::Approx(3));
  CHECK(isFinite(integrateExp(1000, 0, 10, 10000)));
  CHECK(integrateExp(-1, 0, INFINITY, 0) == doctest::Approx(1));
  CHECK(integrateExp(1, 2, 1, 0) == 0);
}
