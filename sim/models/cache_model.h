// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model_support.h"
#include "sim_model.h"

namespace trimtab::sim {

// A cache in front of the database (stage Cache), with a TTL and a capacity.
//
// Steady state per key class j with lookup rate l_j = L p_j (L lookups/s):
// an entry leaves at the first of the TTL T after the miss that inserted it
// (non-resetting) and T_C after its last request (the LRU in Che's
// approximation); its mean life D_j gives h_j = l_j D_j / (1 + l_j D_j)
// and the stale share of its hits (ages up to its own life: a hot key held
// to the TTL ages for the whole TTL). T_C solves sum_j keys_j h_j = C, so a
// TTL that keeps the hot keys short leaves room to the cold ones (see
// ttlLruEntry in cache_math.h). A sequential scan uses the periodic form
// instead. The occupancy of each class relaxes toward h_j at rate
// l_j + 1/D_j (the TTL cache's occupancy equation), so a flushed or
// restarted cache is cold and warms up as misses refill it. Work per step is
// O(classes) only when the load moved by > 5 % (T_C is then solved again if
// L T moved by > 5 %), while the hit ratio moves by > 0.001 per update
// (warm-up after a flush), or once per `resolution`; otherwise O(1). The
// classes' targets (a few exponentials each) are recomputed only when the
// load moved by > 1 % since, or T_C was solved again.
//
// Knobs: cache_ttl_seconds, cache_capacity_entries (0 = unlimited),
// cache_flush (trigger: drop everything), cache_trim (trigger: value = the
// fraction of entries to evict, least popular first; costs a pause).
class CacheModel final : public SimModel {
 public:
  struct Params {
    Seconds ttl = 3600;
    double capacity = 0;            // entries; 0 = unlimited
    double bytesPerEntry = 1024;
    double changeRate = 1.0 / 86400;  // data changes per key per second (staleness)
    double lookupsPerRequest = 1;
    bool inProcess = true;          // entries count toward the process's memory
    bool warmStart = true;          // start in steady state (false: cold)
    Seconds resolution = 5;         // longest time between occupancy updates
    Seconds trimCostPerEntry = 1e-7;  // pause per entry scanned by cache_trim
    ModelLabels labels;
  };

  static constexpr Seconds kMaxTtl = 1e9;
  static constexpr double kMaxCapacity = 1e12;

  explicit CacheModel(Params params);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);

  std::string_view kind() const override { return "cache"; }
  SimStage stage() const override { return SimStage::Cache; }
  Status attach(SimWorld& world) override;
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override;
  std::vector<SimKnobInfo> knobs() const override;
  Status setKnob(const std::string& knob, double value) override;
  std::optional<double> knobValue(const std::string& knob) const override;

  double hitRatio() const { return hitRatio_; }
  double targetHitRatio() const { return targetHit_; }
  double entries() const { return entries_; }
  double staleFraction() const { return staleFraction_; }

 private:
  void integrate(Seconds elapsed);
  // Integrates over `elapsed`, then sets targets for `lookupRate` and sums up
  // (hit ratio, entries); `warm` puts every class at its new target.
  void refresh(Seconds elapsed, double lookupRate, bool warm);
  void evictLeastPopular(double entries);
  void summarize();

  Params params_;
  std::vector<KeyClass> classes_;
  std::vector<double> occupancy_, target_, rate_, scratch_;
  std::vector<double> staleOf_;     // per class: stale share of its hits
  double lruProduct_ = 0;           // y_C of the LRU alone: capacity and classes only
  double cheProduct_ = 0;           // y_C of the TTL + LRU cache, solved at L T below
  double solvedLookupsPerTtl_ = -1;
  bool periodic_ = false;
  std::uint64_t generation_ = 0, restarts_ = 0;
  bool started_ = false, dirty_ = true, cheDirty_ = true, productDirty_ = true;
  bool flushPending_ = false, transient_ = false;
  double trimPending_ = 0;
  Seconds stateTime_ = 0, lastRefresh_ = 0;
  double refreshRate_ = -1;         // lookup rate at the last refresh
  double smoothedRate_ = -1;        // lookup rate averaged over kRateSmoothing: what the state follows
  double targetRate_ = -1;          // lookup rate used by the current targets
  double insertsSinceRefresh_ = 0;
  double hitRatio_ = 0, targetHit_ = 0, entries_ = 0, staleFraction_ = 0;
  double hits_ = 0, misses_ = 0, stale_ = 0, evictions_ = 0, expirations_ = 0;
  double flushes_ = 0, trims_ = 0;
};

}  // namespace trimtab::sim
