// SPDX-License-Identifier: Apache-2.0
#include "scores.h"

#include <algorithm>

namespace trimtab::sim {

namespace {

constexpr double kGibHour = 1024.0 * 1024.0 * 1024.0 * 3600.0;

}  // namespace

void ScoreAccumulator::observe(const StepObservation& s) {
  Scores& r = scores_;
  r.simulatedSeconds += s.dt;
  r.requests += s.requests;
  r.errors += s.errors;
  if (s.up) {
    r.timeouts += s.errors;
    upSeconds_ += s.dt;
    p95Seconds_ += s.latencyP95 * s.dt;
    r.latencyP95Max = std::max(r.latencyP95Max, s.latencyP95);
    if (s.latencyP95 > slo_) r.sloViolationSeconds += s.dt;
  } else {
    r.downtimeSeconds += s.dt;
  }
  connectionSeconds_ += s.connectionsOpen * s.dt;
  r.connectionsPeak = std::max(r.connectionsPeak, s.connectionsOpen);
  byteSeconds_ += s.rssBytes * s.dt;
  r.rssPeakBytes = std::max(r.rssPeakBytes, s.rssBytes);
  if (s.cachePresent && s.up) {
    cacheRequests_ += s.requests;
    hitRequests_ += s.requests * s.hitRatio;
  }
  r.monitoringCpuSeconds += s.monitoringCpuFraction * s.dt;
}

void ScoreAccumulator::knobChanged(Seconds time, const std::string& knob, double from, double to, bool trigger) {
  KnobScore& k = scores_.knobs[knob];
  ++k.changes;
  ++scores_.knobChanges;
  if (trigger) return;
  const int direction = to > from ? 1 : (to < from ? -1 : 0);
  if (direction == 0) return;
  auto [it, fresh] = last_.try_emplace(knob);
  if (!fresh && it->second.direction == -direction && time - it->second.time <= flapWindow_) {
    ++k.flaps;
    ++scores_.flaps;
  }
  it->second = LastChange{time, direction};
}

Scores ScoreAccumulator::finish() const {
  Scores r = scores_;
  r.latencyP95Mean = upSeconds_ > 0 ? p95Seconds_ / upSeconds_ : 0;
  r.errorRatio = r.requests > 0 ? r.errors / r.requests : 0;
  r.connectionsMean = r.simulatedSeconds > 0 ? connectionSeconds_ / r.simulatedSeconds : 0;
  r.memoryGibHours = byteSeconds_ / kGibHour;
  r.hitRatio = cacheRequests_ > 0 ? hitRequests_ / cacheRequests_ : 0;
  r.monitoringOverhead = r.simulatedSeconds > 0 ? r.monitoringCpuSeconds / r.simulatedSeconds : 0;
  return r;
}

std::vector<NamedScore> namedScores(const Scores& s) {
  return {
      {"slo_violation_seconds", "SLO violation (s)", s.sloViolationSeconds, Better::Lower},
      {"latency_p95_mean_seconds", "p95 latency mean (s)", s.latencyP95Mean, Better::Lower},
      {"latency_p95_max_seconds", "p95 latency max (s)", s.latencyP95Max, Better::Lower},
      {"timeouts", "timeouts", s.timeouts, Better::Lower},
      {"errors", "errors", s.errors, Better::Lower},
      {"error_ratio", "error ratio", s.errorRatio, Better::Lower},
      {"oom_kills", "OOM kills", s.oomKills, Better::Lower},
      {"downtime_seconds", "downtime (s)", s.downtimeSeconds, Better::Lower},
      {"connections_mean", "connections mean", s.connectionsMean, Better::Lower},
      {"connections_peak", "connections peak", s.connectionsPeak, Better::Lower},
      {"memory_gib_hours", "memory (GiB h)", s.memoryGibHours, Better::Lower},
      {"rss_peak_bytes", "RSS peak (bytes)", s.rssPeakBytes, Better::Lower},
      {"hit_ratio", "cache hit ratio", s.hitRatio, Better::Higher},
      {"stale_reads", "stale reads", s.staleReads, Better::Lower},
      {"knob_changes", "knob changes", s.knobChanges, Better::None},
      {"flaps", "flaps", s.flaps, Better::Lower},
      {"monitoring_cpu_seconds", "monitoring CPU (s)", s.monitoringCpuSeconds, Better::Lower},
      {"monitoring_overhead", "monitoring overhead", s.monitoringOverhead, Better::Lower},
      {"requests", "requests", s.requests, Better::None},
      {"simulated_seconds", "simulated (s)", s.simulatedSeconds, Better::None},
  };
}

Scores meanScores(const std::vector<Scores>& runs) {
  Scores m;
  if (runs.empty()) return m;
  const double n = static_cast<double>(runs.size());
  auto mean = [&](double Scores::*field) {
    double sum = 0;
    for (const auto& r : runs) sum += r.*field;
    m.*field = sum / n;
  };
  for (double Scores::*f :
       {&Scores::simulatedSeconds, &Scores::requests, &Scores::sloViolationSeconds, &Scores::latencyP95Mean,
        &Scores::latencyP95Max, &Scores::timeouts, &Scores::errors, &Scores::errorRatio, &Scores::oomKills,
        &Scores::downtimeSeconds, &Scores::connectionsMean, &Scores::connectionsPeak, &Scores::memoryGibHours,
        &Scores::rssPeakBytes, &Scores::hitRatio, &Scores::staleReads, &Scores::knobChanges, &Scores::flaps,
        &Scores::monitoringCpuSeconds, &Scores::monitoringOverhead}) {
    mean(f);
  }
  for (const auto& r : runs) {
    for (const auto& [name, k] : r.knobs) {
      m.knobs[name].changes += k.changes / n;
      m.knobs[name].flaps += k.flaps / n;
    }
  }
  return m;
}

}  // namespace trimtab::sim
