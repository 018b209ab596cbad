// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model_support.h"
#include "sim_model.h"

namespace trimtab::sim {

// The service process's memory (stage Process).
//
// resident = baseline + per_connection * open pool connections
//            + cache bytes (if the cache is in process) + heap
// The heap is a garbage-collected sawtooth: the live set (live_heap plus the
// leaked bytes, which stay reachable) and garbage allocated at
// alloc_per_second + alloc_per_request * rps; a collection happens when the
// heap reaches live * (1 + gc_percent/100) (Go's GOGC rule) and brings it back
// to the live set. Each collection costs gc_pause of stop-the-world time and
// gc_pause + live * mark_seconds_per_byte of CPU.
//
// When resident memory (at its peak within the step) exceeds `limit`, the
// process is OOM-killed: down for `restart_downtime` (requests fail, metrics
// cannot be scraped), then it restarts with the leak gone and cold caches
// (SimWorld::process.restarts is bumped).
//
// A planned restart (trigger process_restart: drain, restart, warm up, as a
// rolling restart or `systemctl restart` does) ends the step in which it was
// asked like an OOM kill does, without being one: down for
// `planned_restart_downtime` (requests fail meanwhile), then the same restart
// (leak gone, cold caches, pool reconnects); at least one step, as a kill.
//
// Knobs: gc_percent, gc_collect (trigger: a forced, stop-the-world collection
// whose pause is gc_pause + live * mark_seconds_per_byte), process_restart
// (trigger: a planned restart).
class MemoryModel final : public SimModel {
 public:
  struct Params {
    double baseline = 64.0 * (1 << 20);
    double perConnection = 256.0 * (1 << 10);
    double liveHeap = 128.0 * (1 << 20);
    double allocPerSecond = 0;
    double allocPerRequest = 32.0 * (1 << 10);
    double gcPercent = 100;
    double leakPerSecond = 0;
    double leakPerRequest = 0;
    double limit = 1024.0 * (1 << 20);
    Seconds restartDowntime = 30;
    Seconds plannedRestartDowntime = 5;
    Seconds gcPause = 0.0005;
    double markSecondsPerByte = 1e-9;
    ModelLabels labels;
  };

  static constexpr double kMinGcPercent = 1;
  static constexpr double kMaxGcPercent = 100000;

  explicit MemoryModel(Params params);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);

  std::string_view kind() const override { return "memory"; }
  SimStage stage() const override { return SimStage::Process; }
  Status attach(SimWorld& world) override;
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override;
  std::vector<SimKnobInfo> knobs() const override;
  Status setKnob(const std::string& knob, double value) override;
  std::optional<double> knobValue(const std::string& knob) const override;

  double residentBytes() const { return rss_; }
  double heapBytes() const { return heap_; }
  double leakedBytes() const { return leaked_; }
  double collections() const { return collections_; }
  double oomKills() const { return ooms_; }
  double plannedRestarts() const { return planned_; }
  double restarts() const { return restarts_; }
  bool up() const { return up_; }

 private:
  void collect(double live, double& pause, double& cpu);
  void restart(Seconds at, SimWorld& world);

  Params params_;
  double heap_ = 0, leaked_ = 0, rss_ = 0, live_ = 0;
  double collections_ = 0, gcPauseTotal_ = 0, gcCpuTotal_ = 0;
  double ooms_ = 0, restarts_ = 0, planned_ = 0;
  Seconds downUntil_ = 0, startTime_ = 0;
  bool up_ = true, forcedPending_ = false, restartPending_ = false;
};

}  // namespace trimtab::sim
