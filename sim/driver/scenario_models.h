// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "scenario.h"
#include "sim/models/model_stack.h"

namespace trimtab::sim {

// One parameter changed by --perturb, for the run's summary.
struct AppliedPerturbation {
  std::string path;  // "models[0].mean_rps"
  double factor = 1;
  double value = 0;  // after
};

// Adds the scenario's models to `stack` (not attached), from a fresh parse of
// the scenario's text: ConfigNode is single-threaded, so every run parses its
// own. With `perturbSeed`, each `perturb:` entry (or, without any, the level
// of every load model: rps, mean_rps, base_rps, from_rps, to_rps, +-20 %)
// multiplies its parameter by a factor drawn from that seed.
Status addScenarioModels(const Scenario& scenario, std::optional<std::uint64_t> perturbSeed, ModelStack& stack,
                         std::vector<AppliedPerturbation>* applied = nullptr);

inline constexpr double kDefaultLoadSpread = 0.2;

// Whole file as text; an Error naming the file when it cannot be read, or
// when it is larger than `maxBytes` (0: any size).
Result<std::string> readTextFile(const std::string& file, std::uintmax_t maxBytes = 0);

// A scenario is a few KiB; a long series belongs in a load.replay CSV.
inline constexpr std::uintmax_t kMaxScenarioBytes = 16u << 20;

}  // namespace trimtab::sim
