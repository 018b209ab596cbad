// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model_support.h"
#include "sim_model.h"

namespace trimtab::sim {

// The request path as a client sees it (stage App, last): composes the other
// models into request counts, errors and latency.
//
// A request takes `base_latency` of CPU (stretched by the CPU that GC and
// scrapes take: base / (1 - their share)), plus `cache_latency` when a cache
// is present; a share m of requests (the cache misses, or all without a
// cache) also goes through the pool and the database, whose latency is the
// pool's M/M/c+D latency. So the p95 is base + the pool latency quantile at
// survival 0.05/m (base alone when m <= 0.05). A stop-the-world pause of P
// seconds within a step of dt adds max(0, P - 0.05 dt) (the requests that
// arrive during the pause wait for its end); a burst of new connections that
// reaches 5 % of the queries adds the connect time. Timeouts and every request
// that arrives while the process is down are errors.
class AppModel final : public SimModel {
 public:
  struct Params {
    Seconds baseLatency = 0.002;
    Seconds cacheLatency = 0.0005;
    ModelLabels labels;
  };

  static constexpr double kP95Survival = 0.05;
  static constexpr double kMaxCpuShare = 0.9;

  explicit AppModel(Params params);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);

  std::string_view kind() const override { return "app"; }
  SimStage stage() const override { return SimStage::App; }
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override;

  double latencyP95() const { return p95_; }
  double latencyMean() const { return mean_; }
  double requests() const { return requests_; }
  double errors() const { return errors_; }

 private:
  Params params_;
  double requests_ = 0, errors_ = 0, p95_ = 0, mean_ = 0;
  double lastLevel_ = -1, lastDbP95_ = 0;
  double lastArrival_ = -1, lastService_ = -1, lastServers_ = -1, lastTimeout_ = -1;
};

}  // namespace trimtab::sim
