// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"

namespace prometheus {
class Registry;
}

namespace trimtab {

// trimtab's own Prometheus metrics, served on /metrics (every name, type,
// unit and label is documented in docs/metrics.md, "trimtab's own metrics").
//
// Label values are knob, policy and source names from the configuration, so
// cardinality is bounded by the config. Each (family, label value) child is
// created once and cached: prometheus-cpp's Family::Add allocates a metric on
// every call, even when the child exists.
//
// Thread safety: every method may be called from any thread concurrently
// (the tick, actuator workers and the HTTP server's thread).
class OwnMetrics {
 public:
  // `version` becomes the label of trimtab_build_info.
  explicit OwnMetrics(const std::string& version);
  ~OwnMetrics();
  OwnMetrics(const OwnMetrics&) = delete;
  OwnMetrics& operator=(const OwnMetrics&) = delete;

  // --- loop and policies ---
  void observeTick(Seconds duration);
  void observePolicy(const std::string& policy, Seconds duration);
  void countPolicyError(const std::string& policy);
  void setQuarantinedPolicies(std::size_t count);
  void countPolicyReloadFailure();

  // --- governor and actuators ---
  // verdict: "apply", "dry-run", "unchanged", "vetoed" (verdictName()).
  void countDecision(const std::string& knob, const std::string& verdict);
  // outcome: "ok", "not_effective", "failed" (or any short word the caller uses).
  void countActuation(const std::string& knob, const std::string& outcome);
  void countActuatorError(const std::string& knob);
  void observeActuatorLatency(const std::string& knob, Seconds latency);
  // The three above in one call, from an actuation's result: outcome "ok"
  // (ok and effective), "not_effective" (ok, not effective) or "failed" (which
  // also counts an actuator error).
  void observeActuation(const std::string& knob, bool ok, bool effective, Seconds latency);
  void setKnobValue(const std::string& knob, double value);

  // --- sources and store ---
  void observeScrape(const std::string& source, Seconds duration);
  void countScrapeError(const std::string& source);
  void setScrapeSamples(const std::string& source, double samples);
  void countScrapeRejectedLines(const std::string& source, std::uint64_t lines);
  void setSourceUp(const std::string& source, bool up);
  void setSeries(std::size_t count);
  // The store reports a cumulative count (SeriesStore::droppedSeries()); the
  // counter follows it, ignoring any decrease.
  void syncSeriesDropped(std::uint64_t cumulative);
  // The own HTTP server's cumulative counts of connections closed at its cap
  // (HttpServer::evictedConnections, rejectedConnections), likewise.
  void syncHttpConnectionsClosed(std::uint64_t evicted, std::uint64_t refused);

  // Text exposition format 0.0.4 of every metric above.
  std::string serialize() const;
  // For callers that add their own families.
  prometheus::Registry& registry();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Content-Type of serialize()'s output.
inline constexpr const char* kPrometheusTextContentType = "text/plain; version=0.0.4; charset=utf-8";

}  // namespace trimtab
