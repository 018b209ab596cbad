// SPDX-License-Identifier: Apache-2.0
#include "sim/models/cache_math.h"
#include "sim/models/cache_model.h"
#include "sim/models/key_popularity_model.h"

#include <doctest/doctest.h>

#include <cmath>
#include <deque>
#include <list>
#include <random>
#include <unordered_map>
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

double exponential(std::mt19937_64& rng, double rate) {
  return -std::log1p(-static_cast<double>(rng() >> 11) * 0x1.0p-53) / rate;
}

// One key under both timers, event by event: the entry leaves `ttl` after
// the miss that inserted it or `tc` after its last request. Returns the hit
// probability and the stale share of hits (data changing at `nu`).
std::pair<double, double> oneKeyTtlLru(double rate, double ttl, double tc, double nu) {
  std::mt19937_64 rng(11);
  double t = 0, inserted = -1e300, last = -1e300, hits = 0, total = 0, stale = 0;
  for (int i = 0; i < 400000; ++i) {
    t += exponential(rng, rate);
    if (t - inserted < ttl && t - last < tc) {
      hits += 1;
      stale += -std::expm1(-nu * (t - inserted));
    } else {
      inserted = t;
    }
    last = t;
    total += 1;
  }
  return {hits / total, hits > 0 ? stale / hits : 0.0};
}

// A real TTL + LRU cache, request by request: `hot` keys read `hotAccess` of
// the time, `cold` keys the rest, Poisson at `rps`; entries expire `ttl`
// after insertion (removed at once) and the least recently used goes when
// the cache is over `capacity`. Returns the hit ratio and the stale share of
// hits (data changing at `nu` per key).
std::pair<double, double> simulateTtlLru(int hot, int cold, double hotAccess, double rps, double ttl,
                                         int capacity, double nu, int requests) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> unit(0, 1);
  struct Entry {
    double inserted;
    std::list<int>::iterator pos;
  };
  std::unordered_map<int, Entry> cache;
  std::list<int> lru;                            // front: most recently used
  std::deque<std::pair<double, int>> byInsert;  // expiry order
  double t = 0, hits = 0, stale = 0, total = 0;
  for (int i = 0; i < requests; ++i) {
    t += exponential(rng, rps);
    while (!byInsert.empty() && byInsert.front().first + ttl <= t) {
      auto it = cache.find(byInsert.front().second);
      if (it != cache.end() && it->second.inserted == byInsert.front().first) {
        lru.erase(it->second.pos);
        cache.erase(it);
      }
      byInsert.pop_front();
    }
    const bool isHot = unit(rng) < hotAccess;
    const int key = isHot ? static_cast<int>(unit(rng) * hot) : hot + static_cast<int>(unit(rng) * cold);
    const bool counted = i >= requests / 10;  // warm-up
    auto it = cache.find(key);
    if (it != cache.end()) {
      lru.splice(lru.begin(), lru, it->second.pos);
      if (counted) {
        hits += 1;
        stale += -std::expm1(-nu * (t - it->second.inserted));
      }
    } else {
      lru.push_front(key);
      cache[key] = Entry{t, lru.begin()};
      byInsert.emplace_back(t, key);
      if (static_cast<int>(cache.size()) > capacity) {
        cache.erase(lru.back());
        lru.pop_back();
      }
    }
    if (counted) total += 1;
  }
  return {hits / total, stale / hits};
}

}  // namespace

TEST_CASE("an entry under a TTL and an LRU: life, hits and staleness against one simulated key") {
  const double nu = 1.0 / 3600;
  struct Case {
    double rate, ttl, tc;
  };
  for (const Case& c : {Case{0.01, 400, 100}, Case{0.02, 200, 100}, Case{0.04, 1000, 100},
                        Case{0.1, 5000, 100}, Case{0.003, 10000, 100}}) {
    CAPTURE(c.rate);
    CAPTURE(c.ttl);
    const auto [hit, stale] = oneKeyTtlLru(c.rate, c.ttl, c.tc, nu);
    const EntryLife e = ttlLruEntry(c.rate, c.ttl, c.tc, nu);
    CHECK(e.hit == doctest::Approx(hit).epsilon(0.01));
    CHECK(e.stale == doctest::Approx(stale).epsilon(0.05));
    CHECK(e.hit == doctest::Approx(c.rate * e.life / (1 + c.rate * e.life)));
    // Each timer alone bounds it.
    CHECK(e.hit <= ttlHitProbability(c.rate, c.ttl) + 1e-12);
    CHECK(e.hit <= cheHitProbability(c.rate, c.tc) + 1e-12);
  }
  // The limits are exact: the LRU never evicts before the TTL; no TTL.
  const EntryLife ttlOnly = ttlLruEntry(0.05, 60, 100, nu);
  CHECK(ttlOnly.life == 60);
  CHECK(ttlOnly.hit == doctest::Approx(ttlHitProbability(0.05, 60)));
  CHECK(ttlOnly.stale == doctest::Approx(staleHitFraction(nu, 60)));
  CHECK(ttlLruEntry(0.05, 1e9, 100, nu).hit == doctest::Approx(cheHitProbability(0.05, 100)).epsilon(1e-9));
  CHECK(ttlLruEntry(0.05, 1e9, 100, 0).stale == 0);
  CHECK(ttlLruEntry(0, 1000, 100, nu).hit == 0);
  CHECK(ttlLruEntry(1e6, 1000, 100, nu).life == doctest::Approx(1000));  // never idle for T_C
  CHECK(ttlLruEntry(1, 0, 0, nu).hit == 0);
}

TEST_CASE("TTL + LRU: a hot class held to the TTL ages for the whole TTL") {
  // 100 hot keys read 90 % of the time, 900 cold; capacity 200. The LRU
  // alone keeps an entry ~110 s after its last read, but a hot key is read
  // every ~11 s, so the TTL (400 s) is what ends its entries: its hits age
  // up to 400 s, not ~110 s.
  KeyPopularityModel::Params kp;
  kp.kind = KeyPopularityModel::Kind::Hotspot;
  kp.keys = 1000;
  CacheModel::Params cp;
  cp.ttl = 400;
  cp.capacity = 200;
  cp.changeRate = 1.0 / 2000;
  CacheRig rig(kp, cp);
  rig.run(10, 20);
  const auto [hit, stale] = simulateTtlLru(100, 900, 0.9, 10, 400, 200, 1.0 / 2000, 2000000);
  CHECK(rig.cache.hitRatio() == doctest::Approx(hit).epsilon(0.02));
  CHECK(rig.cache.staleFraction() == doctest::Approx(stale).epsilon(0.05));
  // The old model aged every hit by min(TTL, T_C of the LRU alone).
  const double lruAlone = cheCharacteristicProduct(rig.keys.classes(), 200) / 10;
  CHECK(lruAlone < 150);
  CHECK(rig.cache.staleFraction() > 2 * staleHitFraction(1.0 / 2000, lruAlone));
  // The TTL leaves room in the LRU: the capacity is still full.
  CHECK(rig.cache.entries() == doctest::Approx(200).epsilon(1e-6));
}

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
