// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/clock.h"

namespace trimtab::sim {

class MmcdQueue;

// Offered load of this step, set by the load models (stage Load).
struct LoadState {
  double rps = 0;  // requests per second arriving at the service
};

// A group of keys with one per-key access probability. Key popularity models
// describe the key space as a few classes so that the cache model stays O(1)
// per step whatever the number of keys.
struct KeyClass {
  double keys = 0;         // number of keys in the class
  double probPerKey = 0;   // probability that one access goes to a given key
};

struct KeySpace {
  std::vector<KeyClass> classes;  // sum(keys * probPerKey) == 1
  double totalKeys = 0;
  bool periodic = false;          // deterministic inter-access times (sequential scan)
  // Bumped when the keys of the classes change (a hot set moves). `remap` is
  // then classes x classes, row-major: remap[j * K + i] is the fraction of the
  // new class j's keys that belonged to the old class i (rows sum to 1).
  std::uint64_t generation = 0;
  std::vector<double> remap;
};

// Cache as the rest of the service sees it (stage Cache).
struct CacheState {
  bool present = false;
  double hitRatio = 0;     // fraction of lookups served by the cache this step
  double entries = 0;
  double bytes = 0;        // memory held by entries
  bool inProcess = true;   // counts toward the process's resident memory
};

// The database path behind the connection pool (stage Pool): the parameters of
// the M/M/c+D queue of this step, enough to evaluate any latency quantile
// (see queueing.h), and the pool's connections.
struct DbState {
  bool present = false;
  double arrivalRate = 0;   // queries per second offered to the pool
  double serviceRate = 0;   // per connection, after USL contention (1/s)
  double servers = 0;       // pool size c
  double timeout = 0;       // pool wait timeout D (s)
  double waitProbability = 0;
  double timeoutProbability = 0;
  double busy = 0;          // mean connections executing a query
  double open = 0;          // connections held open by the pool
  double connectPenalty = 0;      // seconds added to requests that opened a connection
  double connectFraction = 0;     // fraction of this step's queries that did
  double queriesPerRequest = 1;   // queries a request that misses the cache makes
  const MmcdQueue* queue = nullptr;  // the pool's queue of this step (latency quantiles)
};

// The service process (stage Process); `up` and `restarts` are read by the
// other models in the next step.
struct ProcessState {
  bool up = true;
  std::uint64_t restarts = 0;   // bumped when the process comes back (cold caches)
  double rssBytes = 0;
  double pauseSeconds = 0;      // stop-the-world time in this step (GC, cache trim)
  double cpuFraction = 0;       // GC + monitoring CPU share of one core, this step
};

// Monitoring (stage Monitoring): whether metrics are visible this step.
struct MonitoringState {
  bool scrapeDue = true;        // true every step when no monitoring model runs
  Seconds interval = 0;         // 0 when no monitoring model runs
  double cpuFraction = 0;       // scrape overhead as a share of one core
};

// Request-level outcome of this step (stage App), for scores and reports.
struct AppState {
  double requests = 0;          // arrivals in this step
  double errors = 0;            // timeouts + rejected while down
  double latencyP95 = 0;        // seconds (0 while down)
  double latencyMean = 0;
};

// Something that happened, for the report and for detection-delay scores.
// Logged rarely (OOM, restart, flush, shift), so allocation here is fine.
struct SimEvent {
  Seconds time = 0;
  std::string model;  // kind of the model that logged it
  std::string what;   // "oom_kill", "restart", "cache_flush", "hot_set_shift", ...
  double value = 0;   // e.g. resident bytes at the kill
};

// State shared by the models of one scenario run. Models read what earlier
// stages wrote in this step (or what later stages wrote in the previous one).
//
// Determinism: every random draw comes from `rng`, seeded by the scenario seed,
// in stage order; never from std::random_device or the wall clock.
class SimWorld {
 public:
  explicit SimWorld(std::uint64_t seed) : rng_(seed) { events.reserve(kEventReserve); }

  // Resets the per-step fields; the model stack calls it before each step.
  void beginStep(Seconds now, Seconds dt);

  // Uniform in [0, 1) from 53 random bits (same numbers on every platform,
  // unlike std::uniform_real_distribution).
  double uniform();
  // Standard normal (Box-Muller; the pair's second value serves the next call).
  double normal();

  void log(Seconds time, std::string model, std::string what, double value = 0);

  Seconds now = 0;
  Seconds dt = 0;
  LoadState load;
  KeySpace keys;
  CacheState cache;
  DbState db;
  ProcessState process;
  MonitoringState monitoring;
  AppState app;
  std::vector<SimEvent> events;

 private:
  static constexpr std::size_t kEventReserve = 256;
  std::mt19937_64 rng_;
  double spareNormal_ = 0;
  bool hasSpareNormal_ = false;
};

}  // namespace trimtab::sim
