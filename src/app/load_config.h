// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "controller/compile.h"
#include "controller/source_intervals.h"

namespace trimtab {

struct LoadedConfig {
  CompiledConfig compiled;
  std::shared_ptr<SourceIntervals> intervals;
  std::shared_ptr<ConfigDiagnostics> diagnostics;  // empty when usable
};

// Parses, validates and compiles a config file (no I/O beyond reading the
// config and policy files). `forceDryRun` overrides the file's mode.
LoadedConfig loadAndCompile(const std::string& file, const bool* forceDryRun);

}  // namespace trimtab
