// SPDX-License-Identifier: Apache-2.0
#include "app/load_config.h"

namespace trimtab {

LoadedConfig loadAndCompile(const std::string& file, const bool* forceDryRun) {
  LoadedConfig out;
  out.diagnostics = std::make_shared<ConfigDiagnostics>();
  Config config = loadConfig(file, out.diagnostics);
  if (forceDryRun && *forceDryRun) config.dryRun = true;
  out.intervals = std::make_shared<SourceIntervals>();
  for (const auto& s : config.sources) out.intervals->add(s.spec.name, s.spec.interval);
  out.compiled = compileConfig(std::move(config), out.intervals.get(), out.diagnostics);
  return out;
}

}  // namespace trimtab
