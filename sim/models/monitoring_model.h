// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "model_support.h"
#include "sim_model.h"

namespace trimtab::sim {

// Metric collection (stage Monitoring): scrapes happen every `interval`, and
// the controller sees the models' metrics only in the steps where
// SimWorld::monitoring.scrapeDue is true, so a longer interval delays
// detection. Each scrape costs `scrape_cpu` seconds of CPU in the service, so
// the overhead (scrape_cpu / interval of one core) grows as the interval
// shrinks; it slows request handling (see the app model).
//
// Knob: scrape_interval_seconds (the "metric interval" of the reference rules).
class MonitoringModel final : public SimModel {
 public:
  struct Params {
    Seconds interval = 10;
    Seconds scrapeCpu = 0.01;
    Seconds offset = 0;       // time of the first scrape
    ModelLabels labels;
  };

  static constexpr Seconds kMinInterval = 0.1;
  static constexpr Seconds kMaxInterval = 86400;

  explicit MonitoringModel(Params params);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);

  std::string_view kind() const override { return "monitoring"; }
  SimStage stage() const override { return SimStage::Monitoring; }
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override;
  std::vector<SimKnobInfo> knobs() const override;
  Status setKnob(const std::string& knob, double value) override;
  std::optional<double> knobValue(const std::string& knob) const override;

  double scrapes() const { return scrapes_; }
  double overheadRatio() const { return params_.scrapeCpu / params_.interval; }

 private:
  Params params_;
  Seconds next_ = 0, last_ = 0;
  bool started_ = false;
  double scrapes_ = 0, cpu_ = 0;
};

}  // namespace trimtab::sim
