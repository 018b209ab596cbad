// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/metric.h"
#include "common/result.h"
#include "sim_model.h"
#include "sim_world.h"

namespace trimtab::sim {

// Builds one model from a scenario entry: reads `model:` (the registry name,
// with a "did you mean" on a typo), calls the factory, then reports unknown
// keys of the entry.
Result<std::unique_ptr<SimModel>> createSimModel(ConfigNode& entry);

// The models of one scenario run and their world: steps them in stage order,
// collects their samples, routes knob changes by name.
//
// Usage: add() every model, attach() once, then step() with increasing time;
// publish() whenever world().monitoring.scrapeDue (and the process is up).
class ModelStack {
 public:
  explicit ModelStack(std::uint64_t seed) : world_(seed) {}

  void add(std::unique_ptr<SimModel> model);
  // Adds the models of a scenario's `models:` list; every problem is reported.
  Status addFromConfig(std::vector<ConfigNode>& entries);

  // Orders models by stage (stable: scenario order within a stage), attaches
  // them, and indexes their knobs. An Error when a knob name is taken twice
  // or a model lacks what it needs.
  Status attach();

  // Advances every model from `now` to `now + dt`. No allocation.
  void step(Seconds now, Seconds dt);
  void publish(SampleBatch& batch) const;

  std::vector<SimKnobInfo> knobs() const;
  Status setKnob(const std::string& knob, double value);
  std::optional<double> knobValue(const std::string& knob) const;

  SimWorld& world() { return world_; }
  const SimWorld& world() const { return world_; }
  const std::vector<std::unique_ptr<SimModel>>& models() const { return models_; }
  // First model of that kind, or nullptr.
  SimModel* find(std::string_view kind) const;

 private:
  SimWorld world_;
  std::vector<std::unique_ptr<SimModel>> models_;
  std::map<std::string, std::size_t, std::less<>> knobOwner_;
  bool attached_ = false;
};

}  // namespace trimtab::sim
