// SPDX-License-Identifier: Apache-2.0
#include "monitoring_model.h"

#include <algorithm>
#include <cmath>

namespace trimtab::sim {

MonitoringModel::MonitoringModel(Params params) : params_(std::move(params)) {}

void MonitoringModel::step(Seconds now, Seconds dt, SimWorld& world) {
  if (!started_) {
    started_ = true;
    next_ = now + params_.offset;
    last_ = now;
  }
  const Seconds end = now + dt;
  // A scrape at time t is visible after the step that contains it: (now, end].
  // A shorter interval set after the last scrape makes the next one due at
  // once, not a burst of the scrapes it would have had.
  next_ = std::max(next_, now);
  bool due = false;
  if (next_ <= end) {
    const double n = std::floor((end - next_) / params_.interval) + 1.0;
    scrapes_ += n;
    cpu_ += n * params_.scrapeCpu;
    last_ = next_ + (n - 1.0) * params_.interval;
    next_ = last_ + params_.interval;
    due = true;
  }
  // A process that is down cannot be scraped (the scrape fails).
  world.monitoring.scrapeDue = due && world.process.up;
  world.monitoring.interval = params_.interval;
  world.monitoring.cpuFraction = overheadRatio();
}

void MonitoringModel::publish(SampleBatch& batch) const {
  const auto& l = params_.labels;
  l.add(batch, "monitoring_scrape_interval_seconds", MetricType::Gauge, params_.interval);
  l.add(batch, "monitoring_scrapes_total", MetricType::Counter, scrapes_);
  l.add(batch, "monitoring_cpu_seconds_total", MetricType::Counter, cpu_);
  l.add(batch, "monitoring_overhead_ratio", MetricType::Gauge, overheadRatio());
}

std::vector<SimKnobInfo> MonitoringModel::knobs() const {
  return {{"scrape_interval_seconds", false, false, kMinInterval, kMaxInterval, "s"}};
}

Status MonitoringModel::setKnob(const std::string& knob, double value) {
  const auto all = knobs();
  const SimKnobInfo* info = findKnob(all, knob);
  if (!info) return SimModel::setKnob(knob, value);
  auto v = checkKnobValue(*info, value);
  if (!v) return v.error();
  params_.interval = *v;
  // The next scrape comes one new interval after the last one.
  if (started_) next_ = last_ + params_.interval;
  return Status::success();
}

std::optional<double> MonitoringModel::knobValue(const std::string& knob) const {
  if (knob == "scrape_interval_seconds") return params_.interval;
  return std::nullopt;
}

Result<std::unique_ptr<SimModel>> MonitoringModel::create(ConfigNode& node) {
  Params p;
  ParamReader r(node, "monitoring");
  p.interval = r.duration("interval", p.interval, kMinInterval, kMaxInterval);
  p.scrapeCpu = r.duration("scrape_cpu", p.scrapeCpu, 0, 60);
  p.offset = r.duration("offset", p.offset, 0, kMaxInterval);
  p.labels = r.labels();
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<MonitoringModel>(std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "monitoring", MonitoringModel::create);

}  // namespace trimtab::sim
