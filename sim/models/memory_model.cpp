// SPDX-License-Identifier: Apache-2.0
#include "memory_model.h"

#include <algorithm>
#include <cmath>

namespace trimtab::sim {

MemoryModel::MemoryModel(Params params) : params_(std::move(params)) {
  heap_ = live_ = params_.liveHeap;
}

Status MemoryModel::attach(SimWorld& world) {
  world.process.up = true;
  return Status::success();
}

void MemoryModel::collect(double live, double& pause, double& cpu) {
  heap_ = live;
  collections_ += 1;
  pause += params_.gcPause + live * params_.markSecondsPerByte;
  cpu += params_.gcPause + live * params_.markSecondsPerByte;
}

// The process comes back: the leak is gone, the heap is the live set, and
// the other models see the new restart count (cold cache, pool reconnects).
void MemoryModel::restart(Seconds at, SimWorld& world) {
  up_ = true;
  leaked_ = 0;
  heap_ = live_ = params_.liveHeap;
  restarts_ += 1;
  startTime_ = at;
  world.process.restarts += 1;
  world.log(at, "memory", "restart", restarts_);
}

void MemoryModel::step(Seconds now, Seconds dt, SimWorld& world) {
  const Seconds end = now + dt;
  if (!up_) {
    restartPending_ = false;  // already restarting
    if (end >= downUntil_) restart(end, world);
    rss_ = 0;
    world.process.up = up_;
    world.process.rssBytes = rss_;
    return;
  }
  const double rps = std::max(0.0, world.load.rps);
  leaked_ += (params_.leakPerSecond + params_.leakPerRequest * rps) * dt;
  live_ = params_.liveHeap + leaked_;
  heap_ = std::max(heap_, live_);

  double pause = 0, cpu = 0;
  if (forcedPending_) {
    collect(live_, pause, cpu);
    forcedPending_ = false;
    world.log(now, "memory", "gc_collect", live_);
  }
  const double threshold = live_ * (1.0 + params_.gcPercent / 100.0);
  const double alloc = (params_.allocPerSecond + params_.allocPerRequest * rps) * dt;
  const double peakHeap = std::min(heap_ + alloc, std::max(threshold, heap_));
  heap_ += alloc;
  if (heap_ >= threshold) {
    // Several collections fit in one step when allocation is fast: count them
    // all at once (O(1)), keeping the remainder of the sawtooth.
    const double span = threshold - live_;
    const double cycles = span > 0 ? std::floor((heap_ - live_) / span) : 1.0;
    heap_ = span > 0 ? live_ + (heap_ - live_ - cycles * span) : live_;
    collections_ += cycles;
    pause += cycles * params_.gcPause;
    cpu += cycles * (params_.gcPause + live_ * params_.markSecondsPerByte);
  }
  gcPauseTotal_ += pause;
  gcCpuTotal_ += cpu;

  const double fixed = params_.baseline + params_.perConnection * world.db.open +
                       (world.cache.inProcess ? world.cache.bytes : 0.0);
  rss_ = fixed + heap_;
  const double peak = fixed + std::max(peakHeap, heap_);
  if (peak > params_.limit) {
    ooms_ += 1;
    up_ = false;
    downUntil_ = end + params_.restartDowntime;
    rss_ = peak;
    world.log(end, "memory", "oom_kill", peak);
  } else if (restartPending_) {
    // A planned restart: the process served this step (draining), then stops
    // like a killed one, but for planned_restart_downtime and not as a kill.
    planned_ += 1;
    up_ = false;
    downUntil_ = end + params_.plannedRestartDowntime;
    world.log(end, "memory", "planned_restart", rss_);
  }
  restartPending_ = false;
  world.process.up = up_;
  world.process.rssBytes = rss_;
  world.process.pauseSeconds += pause;
  world.process.cpuFraction += cpu / dt;
}

void MemoryModel::publish(SampleBatch& batch) const {
  const auto& l = params_.labels;
  l.add(batch, "process_resident_memory_bytes", MetricType::Gauge, rss_);
  l.add(batch, "process_memory_limit_bytes", MetricType::Gauge, params_.limit);
  l.add(batch, "process_heap_bytes", MetricType::Gauge, heap_);
  l.add(batch, "process_heap_live_bytes", MetricType::Gauge, live_);
  l.add(batch, "process_start_time_seconds", MetricType::Gauge, startTime_);
  l.add(batch, "process_oom_kills_total", MetricType::Counter, ooms_);
  l.add(batch, "process_restarts_total", MetricType::Counter, restarts_);
  l.add(batch, "process_planned_restarts_total", MetricType::Counter, planned_);
  l.add(batch, "gc_collections_total", MetricType::Counter, collections_);
  l.add(batch, "gc_pause_seconds_total", MetricType::Counter, gcPauseTotal_);
  l.add(batch, "gc_cpu_seconds_total", MetricType::Counter, gcCpuTotal_);
  l.add(batch, "gc_percent", MetricType::Gauge, params_.gcPercent);
}

std::vector<SimKnobInfo> MemoryModel::knobs() const {
  return {
      {"gc_percent", false, false, kMinGcPercent, kMaxGcPercent, "%"},
      {"gc_collect", true, false, 0, 0, ""},
      {"process_restart", true, false, 0, 0, ""},
  };
}

Status MemoryModel::setKnob(const std::string& knob, double value) {
  const auto all = knobs();
  const SimKnobInfo* info = findKnob(all, knob);
  if (!info) return SimModel::setKnob(knob, value);
  auto v = checkKnobValue(*info, value);
  if (!v) return v.error();
  if (knob == "gc_percent") params_.gcPercent = *v;
  else if (knob == "gc_collect") forcedPending_ = true;
  else restartPending_ = true;
  return Status::success();
}

std::optional<double> MemoryModel::knobValue(const std::string& knob) const {
  if (knob == "gc_percent") return params_.gcPercent;
  return std::nullopt;
}

Result<std::unique_ptr<SimModel>> MemoryModel::create(ConfigNode& node) {
  Params p;
  ParamReader r(node, "memory");
  constexpr double kMaxBytes = 1e15;
  p.baseline = r.bytes("baseline", p.baseline, 0, kMaxBytes);
  p.perConnection = r.bytes("per_connection", p.perConnection, 0, kMaxBytes);
  p.liveHeap = r.bytes("live_heap", p.liveHeap, 0, kMaxBytes);
  p.allocPerSecond = r.bytes("alloc_per_second", p.allocPerSecond, 0, kMaxBytes);
  p.allocPerRequest = r.bytes("alloc_per_request", p.allocPerRequest, 0, kMaxBytes);
  p.gcPercent = r.number("gc_percent", p.gcPercent, kMinGcPercent, kMaxGcPercent);
  p.leakPerSecond = r.bytes("leak_per_second", p.leakPerSecond, 0, kMaxBytes);
  p.leakPerRequest = r.bytes("leak_per_request", p.leakPerRequest, 0, kMaxBytes);
  p.limit = r.bytes("limit", p.limit, 1, kMaxBytes);
  p.restartDowntime = r.duration("restart_downtime", p.restartDowntime, 0, 86400);
  p.plannedRestartDowntime =
      r.duration("planned_restart_downtime", p.plannedRestartDowntime, 0, 86400);
  p.gcPause = r.duration("gc_pause", p.gcPause, 0, 60);
  p.markSecondsPerByte = r.number("mark_seconds_per_byte", p.markSecondsPerByte, 0, 1e-3);
  p.labels = r.labels();
  // A process that starts above its limit is killed at every step: a unit
  // slip (1B for 1GiB), not a scenario.
  if (r.status() && p.limit <= p.baseline + p.liveHeap) {
    const auto floor = static_cast<long long>(p.baseline + p.liveHeap);
    r.fail("limit", "expected more than baseline + live_heap (" + std::to_string(floor) +
                        " bytes): the process would start above its limit");
  }
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<MemoryModel>(std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "memory", MemoryModel::create);

}  // namespace trimtab::sim
