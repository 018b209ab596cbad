// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cmath>
#include <string>
#include <vector>

#include "common/clock.h"
#include "scores.h"

namespace trimtab::sim {

// One bucket of the timeline (CSV rows, HTML charts): the steps of
// (time - bucket, time], summarised so that spikes survive (maxima) and
// volumes add up (sums).
struct TimelineRow {
  Seconds time = 0;            // end of the bucket
  double rps = 0;              // mean offered load
  double latencyP95Max = 0;    // worst step p95 while up (s)
  double latencyP95Mean = 0;   // time-weighted, while up (s)
  double errors = 0;           // sum
  double rssMaxBytes = 0;
  double connectionsMax = 0;
  double hitRatio = 0;         // request-weighted
  double staleReads = 0;       // sum
  double downtime = 0;         // seconds down in the bucket
  double monitoringInterval = 0;  // the sim source's interval at the end (s)
  double oomEtaPredicted = NAN;   // predicted seconds to the memory limit at the end (NaN: no crossing)
  double oomEtaActual = NAN;      // seconds from the end to the next OOM kill (NaN: none)
  std::vector<double> knobs;   // values at the end, in Timeline::knobNames order
};

// A run event for the report: a model event (oom_kill, restart, cache_flush,
// hot_set_shift, ...), a controller event (source_down, quarantine, ...) or
// an applied knob change.
struct RunEvent {
  Seconds time = 0;
  std::string source;  // "memory", "cache", ... (model kind), "controller", or a policy name
  std::string what;    // "oom_kill", "source_down", "db_pool_size", ...
  double value = 0;
  std::string detail;  // e.g. "20 -> 25: 3.2 clients waiting"
};

struct Timeline {
  Seconds bucket = 0;
  std::vector<std::string> knobNames;
  std::vector<TimelineRow> rows;
};

// Accumulates steps into the open bucket; the runner closes a bucket every
// `bucket` seconds of simulated time and at the end of the run.
class TimelineRecorder {
 public:
  TimelineRecorder(Seconds bucket, std::vector<std::string> knobNames);
  void observe(const StepObservation& s);
  void close(Seconds time, double staleReads, double monitoringInterval, double oomEtaPredicted,
             std::vector<double> knobs);
  // Fills oomEtaActual of every closed row from the kill times (ascending).
  void setOomKills(const std::vector<Seconds>& kills);
  bool open() const { return seconds_ > 0; }
  Timeline take() { return std::move(timeline_); }

 private:
  Timeline timeline_;
  TimelineRow row_;
  double seconds_ = 0, upSeconds_ = 0, p95Seconds_ = 0, requestSeconds_ = 0;
  double cacheRequests_ = 0, hitRequests_ = 0;
};

}  // namespace trimtab::sim
