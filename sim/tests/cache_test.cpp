// SPDX-License-Identifier: Apache-2.0
#include "sim/models/cache_math.h"
#include "sim/models/cache_model.h"
#include "sim/models/key_popularity_model.h"

#include <doctest/doctest.h>

#include <cmath>
#include <random>
#include <vector>

using namespace trimtab::sim;

namespace {

// A world with zipf keys and a cache, driven at a constant request rate.
struct CacheRig {
  SimWorld world{1};
  KeyPopularityModel keys;
  CacheModel cache;
  double t = 0;

  CacheRig(const KeyPopularityModel::Params& kp, CacheModel::Params cp)
      : keys(kp), cache(std::move(cp)) {
    REQUIRE(keys.attach(world).ok());
    REQUIRE(cache.attach(world).ok());
  }
  void run(double rps, double seconds, double dt = 1) {
    for (double end = t + seconds; t < end - 1e-9; t += dt) {
      world.beginStep(t, dt);
      world.load.rps = rps;
      keys.step(t, dt, world);
      cache.step(t, dt, world);
    }
  }
};

KeyPopularityModel::Params zipf(double n, double s) {
  KeyPopularityModel::Params p;
  p.kind = KeyPopularityModel::Kind::Zipf;
  p.keys = n;
  p.exponent = s;
  return p;
}

// Hit ratio of a non-resetting TTL cache, per key, computed from scratch.
double zipfTtlHitRatio(int n, double s, double rps, double ttl) {
  double h = 0;
  for (int i = 1; i <= n; ++i) h += std::pow(i, -s);
  double hit = 0;
  for (int i = 1; i <= n; ++i) {
    const double q = std::pow(i, -s) / h;
    const double x = rps * q * ttl;
    hit += q * x / (1 + x);
  }
  return hit;
}

}  // namespace

TEST_CASE("TTL-cache formula agrees with a simulation of one key") {
  // Poisson requests at 0.5/s, TTL 4 s, entry not refreshed by hits.
  std::mt19937_64 rng(3);
  double t = 0, expires = -1, hits = 0, total = 0;
  for (int i = 0; i < 400000; ++i) {
    t += -std::log1p(-static_cast<double>(rng() >> 11) * 0x1.0p-53) / 0.5;
    if (t < expires) hits += 1;
    else expires = t + 4;
    total += 1;
  }
  CHECK(hits / total == doctest::Approx(ttlHitProbability(0.5, 4)).epsilon(0.01));
  CHECK(ttlHitProbability(0.5, 4) == doctest::Approx(2.0 / 3.0));
  CHECK(ttlHitProbability(0, 4) == 0);
  CHECK(cheHitProbability(2, 0.5) == doctest::Approx(1 - std::exp(-1.0)));
}

TEST_CASE("cache hit ratio on a small zipf equals the TTL-cache formula") {
  const int n = 20;
  CacheModel::Params cp;
  cp.ttl = 2;
  CacheRig rig(zipf(n, 1.0), cp);
  REQUIRE(rig.keys.classes().size() == static_cast<std::size_t>(n));  // one key per class: exact
  rig.run(10, 10);
  CHECK(rig.cache.hitRatio() == doctest::Approx(zipfTtlHitRatio(n, 1.0, 10, 2)).epsilon(1e-9));

  // A cold cache converges to the same steady state.
  cp.warmStart = false;
  CacheRig cold(zipf(n, 1.0), cp);
  cold.run(10, 1);
  CHECK(cold.cache.hitRatio() < rig.cache.hitRatio());
  cold.run(10, 600);
  CHECK(cold.cache.hitRatio() == doctest::Approx(zipfTtlHitRatio(n, 1.0, 10, 2)).epsilon(1e-6));
}

TEST_CASE("a capacity-limited cache with no TTL follows Che's approximation") {
  const int n = 20;
  CacheModel::Params cp;
  cp.ttl = CacheModel::kMaxTtl;
  cp.capacity = 5;
  CacheRig rig(zipf(n, 0.8), cp);
  rig.run(50, 30);
  // Independent bisection for y with sum (1 - e^{-q y}) = capacity.
  std::vector<double> q(n);
  double h = 0;
  for (int i = 0; i < n; ++i) h += std::pow(i + 1, -0.8);
  for (int i = 0; i < n; ++i) q[i] = std::pow(i + 1, -0.8) / h;
  double lo = 0, hi = 1e6;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    double f = 0;
    for (double qi : q) f += 1 - std::exp(-qi * mid);
    (f < 5 ? lo : hi) = mid;
  }
  double expected = 0;
  for (double qi : q) expected += qi * (1 - std::exp(-qi * lo));
  CHECK(rig.cache.hitRatio() == doctest::Approx(expected).epsilon(1e-6));
  CHECK(rig.cache.entries() == doctest::Approx(5).epsilon(1e-6));
}

TEST_CASE("hit ratio and stale reads grow with the TTL; memory follows entries") {
  double lastHit = -1, lastStale = -1;
  for (double ttl : {1.0, 10.0, 100.0, 1000.0, 1e5}) {
    CacheModel::Params cp;
    cp.ttl = ttl;
    cp.changeRate = 1.0 / 600;
    cp.bytesPerEntry = 2048;
    CacheRig rig(zipf(100000, 0.9), cp);
    rig.run(200, 20);
    CAPTURE(ttl);
    CHECK(rig.cache.hitRatio() > lastHit);
    CHECK(rig.cache.staleFraction() > lastStale);
    CHECK(rig.world.cache.bytes == doctest::Approx(rig.cache.entries() * 2048));
    lastHit = rig.cache.hitRatio();
    lastStale = rig.cache.staleFraction();
  }
  CHECK(staleHitFraction(1.0 / 600, 1e9) == doctest::Approx(1).epsilon(1e-5));
  CHECK(staleHitFraction(0, 100) == 0);
  CHECK(staleHitFraction(1, 1e-9) == doctest::Approx(5e-10));
}

TEST_CASE("flush empties the cache, which then warms up; trim evicts the least popular") {
  CacheModel::Params cp;
  cp.ttl = 600;
  CacheRig rig(zipf(10000, 1.0), cp);
  rig.run(100, 10);
  const double warm = rig.cache.hitRatio();
  const double entries = rig.cache.entries();
  REQUIRE(warm > 0.5);

  REQUIRE(rig.cache.setKnob("cache_trim", 0.5).ok());
  rig.run(100, 1);
  CHECK(rig.cache.entries() < 0.6 * entries);
  CHECK(rig.cache.hitRatio() > 0.8 * warm);  // the hot keys stayed
  CHECK(rig.world.process.pauseSeconds > 0);  // trimming costs a pause

  REQUIRE(rig.cache.setKnob("cache_flush", 1).ok());
  rig.run(100, 1);
  const double cold = rig.cache.hitRatio();
  CHECK(cold < 0.5 * warm);
  rig.run(100, 3600);
  CHECK(rig.cache.hitRatio() == doctest::Approx(warm).epsilon(1e-3));
  CHECK(rig.world.events.size() == 2);

  // A restart of the process leaves a cold cache too.
  rig.world.process.restarts += 1;
  rig.run(100, 1);
  CHECK(rig.cache.hitRatio() < 0.5 * warm);
}

TEST_CASE("sequential scans: TTL cycles hit, an LRU smaller than the scan never does") {
  KeyPopularityModel::Params kp;
  kp.kind = KeyPopularityModel::Kind::Sequential;
  kp.keys = 1000;
  CacheModel::Params cp;
  cp.ttl = 35;  // each key read every 1000/100 = 10 s: reads at 10, 20, 30 hit
  CacheRig rig(kp, cp);
  rig.run(100, 5);
  CHECK(rig.cache.hitRatio() == doctest::Approx(0.75));
  CHECK(periodicTtlHitProbability(10, 35) == doctest::Approx(0.75));
  cp.capacity = 999;
  CacheRig lru(kp, cp);
  lru.run(100, 60);
  CHECK(lru.cache.hitRatio() == doctest::Approx(0).epsilon(1e-9));
}

TEST_CASE("a moving hot set cools the cache until it warms again") {
  KeyPopularityModel::Params kp;
  kp.kind = KeyPopularityModel::Kind::Hotspot;
  kp.keys = 100000;
  kp.shiftEvery = 3600;
  CacheModel::Params cp;
  cp.ttl = 300;
  CacheRig rig(kp, cp);
  rig.run(200, 3590);
  const double before = rig.cache.hitRatio();
  rig.run(200, 20);
  CHECK(rig.world.keys.generation == 1);
  CHECK(rig.cache.hitRatio() < 0.8 * before);
  rig.run(200, 1800);
  CHECK(rig.cache.hitRatio() == doctest::Approx(before).epsilon(1e-3));
}

TEST_CASE("cache knobs: range, errors, values") {
  CacheModel::Params cp;
  CacheRig rig(zipf(100, 1), cp);
  CHECK(rig.cache.setKnob("cache_ttl_seconds", -5).ok());
  CHECK(*rig.cache.knobValue("cache_ttl_seconds") == 0);
  CHECK(rig.cache.setKnob("cache_capacity_entries", 12.4).ok());
  CHECK(*rig.cache.knobValue("cache_capacity_entries") == 12);
  CHECK_FALSE(rig.cache.setKnob("cache_ttl_seconds", NAN).ok());
  auto s = rig.cache.setKnob("cache_ttl", 5);
  REQUIRE_FALSE(s.ok());
  CHECK(s.error().message.find("cache_ttl") != std::string::npos);
  CHECK_FALSE(rig.cache.knobValue("cache_flush").has_value());
}
