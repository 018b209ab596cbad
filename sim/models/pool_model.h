// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model_support.h"
#include "queueing.h"
#include "sim_model.h"

namespace trimtab::sim {

// A connection pool in front of a database (stage Pool).
//
// Queries arrive at lambda = rps * queries_per_request * (cache miss ratio).
// The database serves each connection's query in s0 seconds alone, inflated
// by USL contention at concurrency N: s(N) = s0 (1 + sigma (N-1) + kappa N (N-1)).
// N is the mean-field fixed point N = lambda s(N) when it is <= the pool size
// c; otherwise (overload) all c connections are busy and N = c. The pool is
// then an M/M/c+D queue with mu = 1/s(N) and the pool timeout as patience D
// (queueing.h): waits, timeouts and latency quantiles in closed form, finite
// for every load. Too small a pool queues; too large a pool lets contention
// cut the database's throughput when the load passes the USL peak
// sqrt((1 - sigma)/kappa).
//
// Open connections follow demand (busy + 2 sqrt(busy)) up at once and down
// only after `idle_timeout` (max over a sliding window), never below min_idle
// (min_idle = size is a fixed-size pool, HikariCP's default). Each open
// connection may also cost the database `connection_overhead` of service time
// (s0 is multiplied by 1 + connection_overhead * open, e.g. PostgreSQL's
// per-backend snapshot work), which makes an oversized fixed pool slower even
// at moderate load.
//
// Knobs: db_pool_size, db_pool_timeout_seconds, db_pool_close_idle (trigger:
// close idle connections now; reopening costs `connect_time` per connection).
class PoolModel final : public SimModel {
 public:
  struct Params {
    int size = 20;
    Seconds serviceTime = 0.005;   // s0
    double sigma = 0.02;           // USL contention
    double kappa = 0.0005;         // USL coherency
    Seconds timeout = 30;          // pool wait timeout D
    double queriesPerRequest = 1;
    int minIdle = 0;
    Seconds idleTimeout = 1800;
    Seconds connectTime = 0.01;
    double connectionOverhead = 0;  // service-time inflation per open connection
    ModelLabels labels;
  };

  static constexpr int kMaxPoolSize = 10000;
  static constexpr std::size_t kIdleBuckets = 16;

  explicit PoolModel(Params params);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);

  std::string_view kind() const override { return "pool"; }
  SimStage stage() const override { return SimStage::Pool; }
  Status attach(SimWorld& world) override;
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override;
  std::vector<SimKnobInfo> knobs() const override;
  Status setKnob(const std::string& knob, double value) override;
  std::optional<double> knobValue(const std::string& knob) const override;

  const MmcdQueue& queue() const { return queue_; }
  double busy() const { return busy_; }
  double open() const { return open_; }
  double serviceTime() const { return 1.0 / mu_; }  // after contention
  double latencyP95() const;
  double waitP95() const { return queue_.waitQuantile(kP95Survival); }

  static constexpr double kP95Survival = 0.05;

 private:
  void updateOpen(Seconds now, double demand, double lambda, Seconds dt);

  Params params_;
  MmcdQueue queue_;
  double lambda_ = -1, mu_ = 1;
  int solvedSize_ = -1;
  double solvedTimeout_ = -1, solvedMu_ = -1;
  double busy_ = 0, open_ = 0, connectFraction_ = 0;
  std::array<double, kIdleBuckets> idleMax_{};  // max demand per bucket of idle_timeout/16
  double windowMax_ = 0;                        // max of idleMax_
  long long bucket_ = -1;
  bool up_ = true, closeIdlePending_ = false;
  double queries_ = 0, timeouts_ = 0, created_ = 0;
  mutable double p95Hint_ = -1;
  mutable double p95Cached_ = -1;
};

}  // namespace trimtab::sim
