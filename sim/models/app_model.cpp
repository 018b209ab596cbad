// SPDX-License-Identifier: Apache-2.0
#include "app_model.h"

#include <algorithm>
#include <cmath>

#include "queueing.h"

namespace trimtab::sim {

AppModel::AppModel(Params params) : params_(std::move(params)) {}

void AppModel::step(Seconds now, Seconds dt, SimWorld& world) {
  (void)now;
  const double arrivals = std::max(0.0, world.load.rps) * dt;
  requests_ += arrivals;
  world.app.requests = arrivals;
  if (!world.process.up) {
    errors_ += arrivals;
    world.app.errors = arrivals;
    p95_ = mean_ = 0;
    world.app.latencyP95 = world.app.latencyMean = 0;
    return;
  }
  const auto& db = world.db;
  const bool viaDb = db.present && db.queue != nullptr;
  const double m = viaDb ? (world.cache.present ? std::clamp(1.0 - world.cache.hitRatio, 0.0, 1.0) : 1.0)
                         : 0.0;
  const double cpuShare =
      std::min(kMaxCpuShare, world.process.cpuFraction + world.monitoring.cpuFraction);
  const double base = (params_.baseLatency + (world.cache.present ? params_.cacheLatency : 0.0)) /
                      (1.0 - cpuShare);

  double dbP95 = 0, dbMean = 0;
  if (viaDb && m > 0) {
    const MmcdQueue& q = *db.queue;
    const double servedTime = (1.0 - q.timeoutProbability()) / db.serviceRate;
    dbMean = q.meanWait() + servedTime;
    if (m > kP95Survival) {
      const double level = kP95Survival / m;
      // The quantile costs a few Newton steps: reuse it while nothing moved.
      const bool same = level == lastLevel_ && db.arrivalRate == lastArrival_ &&
                        db.serviceRate == lastService_ && db.servers == lastServers_ &&
                        db.timeout == lastTimeout_;
      if (!same) {
        lastDbP95_ = q.latencyQuantile(level, lastDbP95_ > 0 ? lastDbP95_ : -1);
        lastLevel_ = level;
        lastArrival_ = db.arrivalRate;
        lastService_ = db.serviceRate;
        lastServers_ = db.servers;
        lastTimeout_ = db.timeout;
      }
      dbP95 = lastDbP95_;
    }
  }
  double p95 = base + dbP95;
  p95 += std::max(0.0, world.process.pauseSeconds - kP95Survival * dt);
  if (viaDb && db.connectFraction * m > kP95Survival) p95 += db.connectPenalty;
  p95_ = p95;
  mean_ = base + m * dbMean + world.process.pauseSeconds * world.process.pauseSeconds / (2.0 * dt);

  // A request fails when any of its queries times out (they wait independently).
  const double failed =
      viaDb ? (db.queriesPerRequest == 1 ? db.timeoutProbability
                                         : 1.0 - std::pow(1.0 - db.timeoutProbability, db.queriesPerRequest))
            : 0.0;
  const double errors = arrivals * m * failed;
  errors_ += errors;
  world.app.errors = errors;
  world.app.latencyP95 = p95_;
  world.app.latencyMean = mean_;
}

void AppModel::publish(SampleBatch& batch) const {
  const auto& l = params_.labels;
  l.add(batch, "app_requests_total", MetricType::Counter, requests_);
  l.add(batch, "app_errors_total", MetricType::Counter, errors_);
  l.add(batch, "app_request_latency_p95_seconds", MetricType::Gauge, p95_);
  l.add(batch, "app_request_latency_mean_seconds", MetricType::Gauge, mean_);
}

Result<std::unique_ptr<SimModel>> AppModel::create(ConfigNode& node) {
  Params p;
  ParamReader r(node, "app");
  p.baseLatency = r.duration("base_latency", p.baseLatency, 0, 3600);
  p.cacheLatency = r.duration("cache_latency", p.cacheLatency, 0, 3600);
  p.labels = r.labels();
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<AppModel>(std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "app", AppModel::create);

}  // namespace trimtab::sim
