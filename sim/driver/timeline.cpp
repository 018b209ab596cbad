// SPDX-License-Identifier: Apache-2.0
#include "timeline.h"

#include <algorithm>

namespace trimtab::sim {

TimelineRecorder::TimelineRecorder(Seconds bucket, std::vector<std::string> knobNames) {
  timeline_.bucket = bucket;
  timeline_.knobNames = std::move(knobNames);
}

void TimelineRecorder::observe(const StepObservation& s) {
  seconds_ += s.dt;
  requestSeconds_ += s.requests;
  row_.errors += s.errors;
  row_.rssMaxBytes = std::max(row_.rssMaxBytes, s.rssBytes);
  row_.connectionsMax = std::max(row_.connectionsMax, s.connectionsOpen);
  if (s.up) {
    upSeconds_ += s.dt;
    p95Seconds_ += s.latencyP95 * s.dt;
    row_.latencyP95Max = std::max(row_.latencyP95Max, s.latencyP95);
    if (s.cachePresent) {
      cacheRequests_ += s.requests;
      hitRequests_ += s.requests * s.hitRatio;
    }
  } else {
    row_.downtime += s.dt;
  }
}

void TimelineRecorder::close(Seconds time, double staleReads, double monitoringInterval, double oomEtaPredicted,
                             std::vector<double> knobs) {
  row_.oomEtaPredicted = oomEtaPredicted;
  row_.time = time;
  row_.rps = seconds_ > 0 ? requestSeconds_ / seconds_ : 0;
  row_.latencyP95Mean = upSeconds_ > 0 ? p95Seconds_ / upSeconds_ : 0;
  row_.hitRatio = cacheRequests_ > 0 ? hitRequests_ / cacheRequests_ : 0;
  row_.staleReads = staleReads;
  row_.monitoringInterval = monitoringInterval;
  row_.knobs = std::move(knobs);
  timeline_.rows.push_back(std::move(row_));
  row_ = TimelineRow{};
  seconds_ = upSeconds_ = p95Seconds_ = requestSeconds_ = cacheRequests_ = hitRequests_ = 0;
}

void TimelineRecorder::setOomKills(const std::vector<Seconds>& kills) {
  std::size_t next = 0;
  for (auto& row : timeline_.rows) {
    while (next < kills.size() && kills[next] < row.time) ++next;
    row.oomEtaActual = next < kills.size() ? kills[next] - row.time : NAN;
  }
}

}  // namespace trimtab::sim
