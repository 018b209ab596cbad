// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actuators/actuator.h"
#include "controller/config.h"
#include "sources/metric_source.h"

namespace trimtab {

struct CompiledSource {
  SourceSpec spec;
  std::unique_ptr<MetricSource> source;
};

struct CompiledKnob {
  KnobSpec spec;
  std::string actuatorKind;
  std::unique_ptr<Actuator> actuator;
};

// A configuration with every name resolved in the registries: the parts the
// controller runs. Built without I/O.
struct CompiledConfig {
  Config config;
  std::vector<CompiledSource> sources;
  std::vector<CompiledKnob> knobs;
};

// Resolves source and actuator kinds in their registries, builds them from
// their params (reporting unknown keys), and compiles every policy. All
// problems go to `diagnostics`; the result is usable only when it stays empty.
// `self` is handed to actuators of kind `self` (may be null for `check`).
CompiledConfig compileConfig(Config config, SelfSettings* self,
                             const std::shared_ptr<ConfigDiagnostics>& diagnostics);

}  // namespace trimtab
