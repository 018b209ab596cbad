// SPDX-License-Identifier: Apache-2.0
#include "pool_model.h"

#include <algorithm>
#include <cmath>

namespace trimtab::sim {
namespace {

constexpr double kDemandHeadroom = 2.0;  // connections kept for busy-count fluctuation, in sqrt(busy)

}  // namespace

PoolModel::PoolModel(Params params) : params_(std::move(params)) {}

Status PoolModel::attach(SimWorld& world) {
  if (world.db.present) return makeError("two pool models in one scenario");
  world.db.present = true;
  world.db.queue = &queue_;
  queue_.solve(0, 1.0 / params_.serviceTime, params_.size, params_.timeout);
  return Status::success();
}

void PoolModel::step(Seconds now, Seconds dt, SimWorld& world) {
  const bool up = world.process.up;
  if (up != up_) {
    // The process died or came back: its connections are gone either way.
    idleMax_.fill(0.0);
    windowMax_ = 0;
    open_ = 0;
    up_ = up;
  }
  const double miss = world.cache.present ? 1.0 - world.cache.hitRatio : 1.0;
  const double lambda =
      up ? std::max(0.0, world.load.rps) * params_.queriesPerRequest * std::clamp(miss, 0.0, 1.0)
         : 0.0;
  const int c = params_.size;
  // The open connections of the previous step: no circular dependency.
  const double s0 = params_.serviceTime * (1.0 + params_.connectionOverhead * open_);
  const double fixed = uslBusyFixedPoint(lambda, s0, params_.sigma, params_.kappa);
  const double concurrency = (fixed < 0 || fixed > c) ? static_cast<double>(c) : fixed;
  const double mu = 1.0 / (s0 * uslInflation(concurrency, params_.sigma, params_.kappa));
  // Erlang B is O(c): solve again only when an input changed.
  if (lambda != lambda_ || c != solvedSize_ || params_.timeout != solvedTimeout_ || mu != solvedMu_) {
    queue_.solve(lambda, mu, c, params_.timeout);
    lambda_ = lambda;
    solvedSize_ = c;
    solvedTimeout_ = params_.timeout;
    solvedMu_ = mu;
    p95Cached_ = -1;
  }
  mu_ = mu;
  busy_ = queue_.busy();

  const double demand = std::min<double>(c, std::ceil(busy_ + kDemandHeadroom * std::sqrt(busy_) - 1e-9));
  updateOpen(now, up ? demand : 0.0, lambda, dt);
  if (closeIdlePending_) world.log(now, "pool", "close_idle_connections", open_);
  closeIdlePending_ = false;

  queries_ += lambda * dt;
  timeouts_ += lambda * dt * queue_.timeoutProbability();

  auto& db = world.db;
  db.arrivalRate = lambda;
  db.serviceRate = mu;
  db.servers = c;
  db.timeout = params_.timeout;
  db.waitProbability = queue_.waitProbability();
  db.timeoutProbability = queue_.timeoutProbability();
  db.busy = busy_;
  db.open = open_;
  db.connectPenalty = params_.connectTime;
  db.connectFraction = connectFraction_;
  db.queriesPerRequest = params_.queriesPerRequest;
}

void PoolModel::updateOpen(Seconds now, double demand, double lambda, Seconds dt) {
  double target = demand;
  if (params_.idleTimeout > 0) {
    const double width = params_.idleTimeout / kIdleBuckets;
    const long long b = static_cast<long long>(std::floor(now / width));
    if (bucket_ < 0) bucket_ = b;
    bool expired = false;
    for (long long k = bucket_ + 1; k <= b && k <= bucket_ + static_cast<long long>(kIdleBuckets); ++k) {
      idleMax_[static_cast<std::size_t>(k % kIdleBuckets)] = 0;
      expired = true;
    }
    bucket_ = std::max(bucket_, b);
    if (closeIdlePending_) {
      idleMax_.fill(0.0);
      expired = true;
    }
    double& slot = idleMax_[static_cast<std::size_t>(bucket_ % kIdleBuckets)];
    slot = std::max(slot, demand);
    // The window's maximum changes only when a bucket expires or demand tops it.
    windowMax_ = expired ? *std::max_element(idleMax_.begin(), idleMax_.end())
                         : std::max(windowMax_, demand);
    target = windowMax_;
  }
  if (demand > 0 || open_ > 0) target = std::max(target, static_cast<double>(params_.minIdle));
  target = std::min(target, static_cast<double>(params_.size));
  // Closing idle connections is immediate; opening costs a connect each.
  if (closeIdlePending_) open_ = std::min(open_, target);
  if (target > open_) {
    const double opened = target - open_;
    created_ += opened;
    const double queries = lambda * dt;
    connectFraction_ = queries > 0 ? std::min(1.0, opened / queries) : 0.0;
  } else {
    connectFraction_ = 0;
  }
  open_ = target;
}

double PoolModel::latencyP95() const {
  if (p95Cached_ < 0) {
    p95Cached_ = queue_.latencyQuantile(kP95Survival, p95Hint_);
    p95Hint_ = p95Cached_;
  }
  return p95Cached_;
}

void PoolModel::publish(SampleBatch& batch) const {
  const auto& l = params_.labels;
  const double c = params_.size;
  l.add(batch, "db_pool_size", MetricType::Gauge, c);
  l.add(batch, "db_pool_timeout_seconds", MetricType::Gauge, params_.timeout);
  l.add(batch, "db_pool_connections_open", MetricType::Gauge, open_);
  l.add(batch, "db_pool_connections_active", MetricType::Gauge, busy_);
  l.add(batch, "db_pool_connections_idle", MetricType::Gauge, std::max(0.0, open_ - busy_));
  l.add(batch, "db_pool_utilization_ratio", MetricType::Gauge, busy_ / c);
  l.add(batch, "db_pool_clients_waiting", MetricType::Gauge, lambda_ * queue_.meanWait());
  l.add(batch, "db_pool_wait_probability", MetricType::Gauge, queue_.waitProbability());
  l.add(batch, "db_pool_wait_seconds_mean", MetricType::Gauge, queue_.meanWait());
  l.add(batch, "db_pool_wait_seconds_p95", MetricType::Gauge, waitP95());
  l.add(batch, "db_pool_timeouts_total", MetricType::Counter, timeouts_);
  l.add(batch, "db_pool_connections_created_total", MetricType::Counter, created_);
  l.add(batch, "db_queries_total", MetricType::Counter, queries_);
  l.add(batch, "db_query_service_seconds", MetricType::Gauge, 1.0 / mu_);
  l.add(batch, "db_query_latency_p95_seconds", MetricType::Gauge, latencyP95());
}

std::vector<SimKnobInfo> PoolModel::knobs() const {
  return {
      {"db_pool_size", false, true, 1, kMaxPoolSize, "connections"},
      {"db_pool_timeout_seconds", false, false, 0, MmcdQueue::kMaxPatience, "s"},
      {"db_pool_close_idle", true, false, 0, 0, ""},
  };
}

Status PoolModel::setKnob(const std::string& knob, double value) {
  const auto all = knobs();
  const SimKnobInfo* info = findKnob(all, knob);
  if (!info) return SimModel::setKnob(knob, value);
  auto v = checkKnobValue(*info, value);
  if (!v) return v.error();
  if (knob == "db_pool_size") params_.size = static_cast<int>(*v);
  else if (knob == "db_pool_timeout_seconds") params_.timeout = *v;
  else closeIdlePending_ = true;
  return Status::success();
}

std::optional<double> PoolModel::knobValue(const std::string& knob) const {
  if (knob == "db_pool_size") return params_.size;
  if (knob == "db_pool_timeout_seconds") return params_.timeout;
  return std::nullopt;
}

Result<std::unique_ptr<SimModel>> PoolModel::create(ConfigNode& node) {
  Params p;
  ParamReader r(node, "pool");
  p.size = r.integer("size", p.size, 1, kMaxPoolSize);
  p.serviceTime = r.duration("service_time", p.serviceTime, 1e-9, 3600);
  p.sigma = r.number("sigma", p.sigma, 0, 1);
  p.kappa = r.number("kappa", p.kappa, 0, 1);
  p.timeout = r.duration("timeout", p.timeout, 0, MmcdQueue::kMaxPatience);
  p.queriesPerRequest = r.number("queries_per_request", p.queriesPerRequest, 0, 1e4);
  p.minIdle = r.integer("min_idle", p.minIdle, 0, kMaxPoolSize);
  p.idleTimeout = r.duration("idle_timeout", p.idleTimeout, 0, 1e9);
  p.connectTime = r.duration("connect_time", p.connectTime, 0, 3600);
  p.connectionOverhead = r.number("connection_overhead", p.connectionOverhead, 0, 1);
  p.labels = r.labels();
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<PoolModel>(std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "pool", PoolModel::create);

}  // namespace trimtab::sim
