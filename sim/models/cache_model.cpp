// SPDX-License-Identifier: Apache-2.0
#include "cache_model.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "cache_math.h"

namespace trimtab::sim {
namespace {

// Refresh when the lookup rate moved by more. The occupancy is a state that
// moves at rate l_j + 1/life, so a few steps of a slightly old target barely
// change it; the classes where it moves fast are the hot ones, near h = 1,
// where the target hardly depends on the rate.
constexpr double kRateTolerance = 0.05;
constexpr double kTargetTolerance = 0.01;    // load change that recomputes the classes' targets
constexpr double kMinRate = 1e-3;            // lookups/s below which rates count as equal
constexpr double kSteadyTolerance = 1e-3;    // hit ratio change per refresh below which it is steady
constexpr double kInstantRate = 1e12;        // 1/TTL for TTL = 0
// The classes' targets follow the lookup rate averaged over this long: a
// cache's contents integrate the load over far longer anyway, and per-step
// noise (5 % a second) would otherwise recompute every class's entry life
// (several exponentials each) at almost every step.
constexpr Seconds kRateSmoothing = 60;

}  // namespace

CacheModel::CacheModel(Params params) : params_(std::move(params)) {}

Status CacheModel::attach(SimWorld& world) {
  if (world.keys.classes.empty()) {
    return makeError(
        "model 'cache' needs a key popularity model in the scenario (keys.uniform, keys.zipf, "
        "keys.sequential or keys.hotspot)");
  }
  if (world.cache.present) return makeError("two cache models in one scenario");
  classes_ = world.keys.classes;
  periodic_ = world.keys.periodic;
  generation_ = world.keys.generation;
  restarts_ = world.process.restarts;
  const std::size_t k = classes_.size();
  occupancy_.assign(k, 0.0);
  target_.assign(k, 0.0);
  rate_.assign(k, 0.0);
  scratch_.assign(k, 0.0);
  staleOf_.assign(k, 0.0);
  world.cache.present = true;
  world.cache.inProcess = params_.inProcess;
  return Status::success();
}

void CacheModel::integrate(Seconds elapsed) {
  if (!(elapsed > 0)) return;
  for (std::size_t j = 0; j < occupancy_.size(); ++j) {
    const double k = rate_[j] * elapsed;
    occupancy_[j] = (occupancy_[j] + k * target_[j]) / (1.0 + k);
  }
}

void CacheModel::refresh(Seconds elapsed, double lookupRate, bool warm) {
  if (cheDirty_) {
    lruProduct_ = params_.capacity > 0 ? cheCharacteristicProduct(classes_, params_.capacity)
                                       : std::numeric_limits<double>::infinity();
    cheDirty_ = false;
    productDirty_ = true;
  }
  // The characteristic product of the TTL + LRU cache depends on L T: solved
  // again when that moved as much as the load may move between refreshes.
  const double lookupsPerTtl = lookupRate * params_.ttl;
  bool retarget = warm || targetRate_ < 0 ||
                  std::abs(lookupRate - targetRate_) > kTargetTolerance * std::max(targetRate_, kMinRate);
  if (productDirty_ || std::abs(lookupsPerTtl - solvedLookupsPerTtl_) >
                           kRateTolerance * std::max(solvedLookupsPerTtl_, kMinRate)) {
    if (!std::isfinite(lruProduct_)) cheProduct_ = lruProduct_;
    else if (periodic_) cheProduct_ = lruProduct_;
    else cheProduct_ = ttlLruCharacteristicProduct(classes_, params_.capacity, lookupsPerTtl, lruProduct_,
                                                    std::isfinite(cheProduct_) ? cheProduct_ : 0.0);
    solvedLookupsPerTtl_ = lookupsPerTtl;
    productDirty_ = false;
    retarget = true;
  }
  // T_C = y / L; with no lookups nothing is requested and the LRU holds still.
  const double tc = lookupRate > 0 ? cheProduct_ / lookupRate : std::numeric_limits<double>::infinity();
  const double dt = elapsed > 0 ? elapsed : 0.0;
  double targetHit = 0, hit = 0, staleHits = 0, entries = 0;
  // One pass per class: integrate the occupancy over the elapsed time with
  // the previous target and rate (implicit Euler of dp/dt = rate (target - p):
  // exact steady state, stable for any step, no exponential), then set the
  // new target and rate from the class's own entry life (when the load moved
  // by > 1 % or T_C was solved again: a few exponentials per class), and sum up.
  for (std::size_t j = 0; j < classes_.size(); ++j) {
    const double k = rate_[j] * dt;
    double p = (occupancy_[j] + k * target_[j]) / (1.0 + k);
    if (retarget) {
      const double l = lookupRate * classes_[j].probPerKey;
      EntryLife e;
      if (periodic_) {
        // A scan: an LRU smaller than the scan never hits.
        const bool lru = std::isfinite(cheProduct_);
        e.life = lru ? std::min(params_.ttl, tc) : params_.ttl;
        e.hit = lru || !(l > 0) ? 0.0 : periodicTtlHitProbability(1.0 / l, params_.ttl);
        e.stale = staleHitFraction(params_.changeRate, params_.ttl);
      } else {
        e = ttlLruEntry(l, params_.ttl, tc, params_.changeRate);
      }
      target_[j] = e.hit;
      rate_[j] = l + (e.life > 0 ? 1.0 / e.life : kInstantRate);
      staleOf_[j] = e.stale;
    }
    if (warm) p = target_[j];
    occupancy_[j] = p;
    const double weight = classes_[j].keys * classes_[j].probPerKey;
    targetHit += weight * target_[j];
    hit += weight * p;
    staleHits += weight * p * staleOf_[j];
    entries += classes_[j].keys * p;
  }
  if (retarget) targetRate_ = lookupRate;
  targetHit_ = std::clamp(targetHit, 0.0, 1.0);
  hitRatio_ = std::clamp(hit, 0.0, 1.0);
  entries_ = entries;
  staleFraction_ = hit > 0 ? std::clamp(staleHits / hit, 0.0, 1.0) : 0.0;
  refreshRate_ = lookupRate;
}

void CacheModel::summarize() {
  double hit = 0, staleHits = 0, entries = 0;
  for (std::size_t j = 0; j < classes_.size(); ++j) {
    const double h = classes_[j].keys * classes_[j].probPerKey * occupancy_[j];
    hit += h;
    staleHits += h * staleOf_[j];
    entries += classes_[j].keys * occupancy_[j];
  }
  hitRatio_ = std::clamp(hit, 0.0, 1.0);
  staleFraction_ = hit > 0 ? std::clamp(staleHits / hit, 0.0, 1.0) : 0.0;
  entries_ = entries;
}

void CacheModel::evictLeastPopular(double entries) {
  for (std::size_t j = classes_.size(); j-- > 0 && entries > 0;) {
    const double held = classes_[j].keys * occupancy_[j];
    const double take = std::min(held, entries);
    occupancy_[j] = held > 0 ? occupancy_[j] * (1.0 - take / held) : 0.0;
    entries -= take;
  }
}

void CacheModel::step(Seconds now, Seconds dt, SimWorld& world) {
  const Seconds end = now + dt;
  if (!started_) {
    started_ = true;
    stateTime_ = lastRefresh_ = now;
  }
  const double lookupRate =
      world.process.up ? std::max(0.0, world.load.rps) * params_.lookupsPerRequest : 0.0;
  const bool shifted = world.keys.generation != generation_;
  const bool restarted = world.process.restarts != restarts_;
  if (smoothedRate_ < 0 || lookupRate == 0 || restarted) {
    smoothedRate_ = lookupRate;
  } else {
    smoothedRate_ += (lookupRate - smoothedRate_) * std::min(1.0, dt / kRateSmoothing);
  }
  if (shifted || restarted || flushPending_ || trimPending_ > 0) {
    integrate(now - stateTime_);
    stateTime_ = now;
    summarize();
    const double before = entries_;
    if (shifted && world.keys.remap.size() == classes_.size() * classes_.size()) {
      const std::size_t k = classes_.size();
      for (std::size_t j = 0; j < k; ++j) {
        double p = 0;
        for (std::size_t i = 0; i < k; ++i) p += world.keys.remap[j * k + i] * occupancy_[i];
        scratch_[j] = p;
      }
      occupancy_.swap(scratch_);
    }
    if (restarted || flushPending_) {
      std::fill(occupancy_.begin(), occupancy_.end(), 0.0);
      if (flushPending_) {
        flushes_ += 1;
        world.log(now, "cache", "cache_flush", before);
      }
    } else if (trimPending_ > 0) {
      evictLeastPopular(trimPending_ * before);
      world.process.pauseSeconds += params_.trimCostPerEntry * before;
      trims_ += 1;
      world.log(now, "cache", "cache_trim", trimPending_);
    }
    summarize();
    if (!restarted) evictions_ += std::max(0.0, before - entries_);
    generation_ = world.keys.generation;
    restarts_ = world.process.restarts;
    flushPending_ = false;
    trimPending_ = 0;
    dirty_ = true;
  }

  const bool rateMoved =
      refreshRate_ < 0 || std::abs(smoothedRate_ - refreshRate_) >
                              kRateTolerance * std::max(refreshRate_, kMinRate);
  if (dirty_ || rateMoved || transient_ || end - lastRefresh_ >= params_.resolution) {
    const double before = entries_;
    const double hitBefore = hitRatio_;
    const bool first = refreshRate_ < 0;
    refresh(end - stateTime_, smoothedRate_, first && params_.warmStart);
    stateTime_ = end;
    if (params_.capacity > 0 && entries_ > params_.capacity) {
      evictLeastPopular(entries_ - params_.capacity);
      summarize();
    }
    const double removed = std::max(0.0, insertsSinceRefresh_ - (entries_ - before));
    const bool capacityBound = smoothedRate_ * params_.ttl > cheProduct_;
    (capacityBound ? evictions_ : expirations_) += first ? 0.0 : removed;
    insertsSinceRefresh_ = 0;
    lastRefresh_ = end;
    dirty_ = false;
    // Still warming up or cooling down fast: follow it step by step.
    transient_ = std::abs(hitRatio_ - hitBefore) > kSteadyTolerance;
  }

  const double lookups = lookupRate * dt;
  const double hits = lookups * hitRatio_;
  hits_ += hits;
  misses_ += lookups - hits;
  stale_ += hits * staleFraction_;
  insertsSinceRefresh_ += lookups - hits;

  world.cache.hitRatio = hitRatio_;
  world.cache.entries = entries_;
  world.cache.bytes = entries_ * params_.bytesPerEntry;
}

void CacheModel::publish(SampleBatch& batch) const {
  const auto& l = params_.labels;
  l.add(batch, "cache_hits_total", MetricType::Counter, hits_);
  l.add(batch, "cache_misses_total", MetricType::Counter, misses_);
  l.add(batch, "cache_stale_reads_total", MetricType::Counter, stale_);
  l.add(batch, "cache_evictions_total", MetricType::Counter, evictions_);
  l.add(batch, "cache_expirations_total", MetricType::Counter, expirations_);
  l.add(batch, "cache_flushes_total", MetricType::Counter, flushes_);
  l.add(batch, "cache_trims_total", MetricType::Counter, trims_);
  l.add(batch, "cache_entries", MetricType::Gauge, entries_);
  l.add(batch, "cache_memory_bytes", MetricType::Gauge, entries_ * params_.bytesPerEntry);
  l.add(batch, "cache_hit_ratio", MetricType::Gauge, hitRatio_);
  l.add(batch, "cache_ttl_seconds", MetricType::Gauge, params_.ttl);
  l.add(batch, "cache_capacity_entries", MetricType::Gauge, params_.capacity);
}

std::vector<SimKnobInfo> CacheModel::knobs() const {
  return {
      {"cache_ttl_seconds", false, false, 0, kMaxTtl, "s"},
      {"cache_capacity_entries", false, true, 0, kMaxCapacity, "entries"},
      {"cache_flush", true, false, 0, 0, ""},
      {"cache_trim", true, false, 0, 1, "fraction"},
  };
}

Status CacheModel::setKnob(const std::string& knob, double value) {
  const auto all = knobs();
  const SimKnobInfo* info = findKnob(all, knob);
  if (!info) return SimModel::setKnob(knob, value);
  auto v = checkKnobValue(*info, value);
  if (!v) return v.error();
  if (knob == "cache_ttl_seconds") {
    params_.ttl = *v;
    dirty_ = productDirty_ = true;
  } else if (knob == "cache_capacity_entries") {
    params_.capacity = *v;
    cheDirty_ = dirty_ = true;
  } else if (knob == "cache_flush") {
    flushPending_ = true;
  } else {
    trimPending_ = std::clamp(*v, 0.0, 1.0);
  }
  return Status::success();
}

std::optional<double> CacheModel::knobValue(const std::string& knob) const {
  if (knob == "cache_ttl_seconds") return params_.ttl;
  if (knob == "cache_capacity_entries") return params_.capacity;
  return std::nullopt;
}

Result<std::unique_ptr<SimModel>> CacheModel::create(ConfigNode& node) {
  Params p;
  ParamReader r(node, "cache");
  p.ttl = r.duration("ttl", p.ttl, 0, kMaxTtl);
  p.capacity = r.number("capacity", p.capacity, 0, kMaxCapacity);
  p.bytesPerEntry = r.bytes("bytes_per_entry", p.bytesPerEntry, 0, 1e12);
  p.changeRate = r.number("change_rate", p.changeRate, 0, 1e6);
  p.lookupsPerRequest = r.number("lookups_per_request", p.lookupsPerRequest, 0, 1e4);
  p.inProcess = r.flag("in_process", p.inProcess);
  p.warmStart = r.flag("warm_start", p.warmStart);
  p.resolution = r.duration("resolution", p.resolution, 0, 3600);
  p.trimCostPerEntry = r.number("trim_cost_per_entry", p.trimCostPerEntry, 0, 1);
  p.labels = r.labels();
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<CacheModel>(std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "cache", CacheModel::create);

}  // namespace trimtab::sim
