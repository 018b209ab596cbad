// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/clock.h"
#include "common/config_node.h"
#include "common/metric.h"
#include "common/registry.h"
#include "common/result.h"
#include "sim_world.h"

namespace trimtab::sim {

// Order in which the models of one scenario step. A model reads what earlier
// stages wrote in this step: load first, the cache before the pool (misses go
// to the database), the process after both (it holds their memory), the app
// last (it composes the latency of a request).
enum class SimStage : int {
  Load = 0,
  Monitoring = 1,
  Keys = 2,
  Cache = 3,
  Pool = 4,
  Process = 5,
  App = 6,
};

// A knob a model accepts, as the simulator's actuator exposes it.
struct SimKnobInfo {
  std::string name;     // e.g. "db_pool_size"
  bool trigger = false; // an action: fires on every setKnob() whatever the value
  bool integer = false;
  double min = 0;
  double max = 0;
  std::string unit;     // "connections", "s", "entries", ...
};

// One piece of the simulated service: load, key popularity, pool, cache,
// process memory, monitoring, app.
//
// Contract:
// - Deterministic: the same parameters, the same calls and the same world seed
//   give bit-identical state and samples. Randomness only from SimWorld.
// - step() advances the model from `now` to `now + dt` on the virtual clock;
//   it is O(1) in the length of the run and does not allocate (except when it
//   logs a rare event). dt > 0.
// - publish() appends the model's samples (Prometheus names, base units, see
//   docs/sim-models.md) as they are after the last step. It never emits NaN or
//   infinity.
// - setKnob() takes effect at the next step. Values out of the knob's range
//   are clamped; an unknown knob or a non-finite value is an Error.
// - Not thread-safe; one scenario run owns its models.
class SimModel {
 public:
  virtual ~SimModel() = default;

  // Registry name, e.g. "pool", "load.diurnal".
  virtual std::string_view kind() const = 0;
  virtual SimStage stage() const = 0;

  // Called once before the first step: initial world state (key classes,
  // presence flags), checks that the models it needs are there.
  virtual Status attach(SimWorld& world) {
    (void)world;
    return Status::success();
  }

  virtual void step(Seconds now, Seconds dt, SimWorld& world) = 0;
  virtual void publish(SampleBatch& batch) const = 0;

  virtual std::vector<SimKnobInfo> knobs() const { return {}; }
  virtual Status setKnob(const std::string& knob, double value);
  // Current value of a knob this model accepts (the baseline before any
  // change); nullopt for unknown knobs and for triggers.
  virtual std::optional<double> knobValue(const std::string& knob) const {
    (void)knob;
    return std::nullopt;
  }
};

// Factories read their keys from `params` (a scenario's model entry; the
// `model:` key is already consumed) and report range errors as an Error and
// as a diagnostic on the key. No I/O except the replay model reading its CSV.
using SimModelFactory = Result<std::unique_ptr<SimModel>>(ConfigNode& params);
struct SimModelRegistryTag {};
using SimModelRegistry = Registry<SimModelRegistryTag, SimModelFactory>;

}  // namespace trimtab::sim
