// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdio>
#include <string>
#include <vector>

#include "common/clock.h"
#include "sim/models/model_stack.h"
#include "sources/metric_source.h"

namespace trimtab::sim {

// Receives every sample a SimSource delivers (trimtab sim --record).
class RecordingSink {
 public:
  virtual ~RecordingSink() = default;
  virtual void record(Seconds t, const SampleBatch& batch) = 0;
};

// The simulated service as the controller's metric source: each collection
// is a scrape of the models as they are after the last step (the controller
// collects at the end of a step, at the monitoring model's interval), so the
// controller sees the published samples only at its collection times. While
// the process is down (OOM kill, restart) a collection fails, as a scrape of
// a dead target does. Honours the filter: families no policy reads are
// counted, not delivered (docs/sim-models.md has the metric names).
//
// Not thread-safe; collect() runs inline on the simulator's thread.
class SimSource final : public MetricSource {
 public:
  SimSource(const ModelStack& stack, const Clock& clock, RecordingSink* sink = nullptr)
      : stack_(stack), clock_(clock), sink_(sink) {}

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  const ModelStack& stack_;
  const Clock& clock_;
  RecordingSink* sink_;
  SampleBatch all_;  // reused: publishing does not allocate once warm
  // The filter's answer per published sample, from the last scrape: the
  // models publish the same names in the same order, so a scrape compares
  // names instead of hashing them (checked per sample; any change re-asks).
  std::uint64_t filterRevision_ = 0;
  std::vector<std::string> names_;
  std::vector<bool> wanted_;
};

// Writes what a SimSource delivered as trimtab's recording format, one JSON
// object per line: {"t":12.5,"key":"db_pool_size","value":20,"type":"gauge"}
// (see docs/simulator.md; `trimtab replay` reads it).
class JsonLinesRecorder final : public RecordingSink {
 public:
  explicit JsonLinesRecorder(std::FILE* out) : out_(out) {}
  void record(Seconds t, const SampleBatch& batch) override;

 private:
  std::FILE* out_;
  std::string line_;
};

}  // namespace trimtab::sim
