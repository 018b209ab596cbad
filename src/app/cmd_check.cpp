// SPDX-License-Identifier: Apache-2.0
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"
#include "app/load_config.h"

namespace trimtab {

void addCheckCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("check", "Validate a config and compile every policy; report all problems");
  auto file = std::make_shared<std::string>();
  cmd->add_option("-c,--config", *file, "Config file (YAML)")->required();
  cmd->callback([file] {
    setupLogging("text", "warn");
    auto loaded = loadAndCompile(*file, nullptr);
    if (!loaded.diagnostics->empty()) {
      std::cerr << loaded.diagnostics->format();
      std::cerr << *file << ": " << loaded.diagnostics->items().size() << " problem"
                << (loaded.diagnostics->items().size() == 1 ? "" : "s") << "\n";
      throw CLI::RuntimeError(1);
    }
    const Config& c = loaded.compiled.config;
    auto count = [](std::size_t n, const char* one, const char* many) {
      return std::to_string(n) + " " + (n == 1 ? one : many);
    };
    std::cout << *file << ": ok (service " << c.service << ", " << count(c.sources.size(), "source", "sources")
              << ", " << count(c.knobs.size(), "knob", "knobs") << ", "
              << count(c.policies.size(), "policy", "policies") << ", mode " << (c.dryRun ? "dry-run" : "enforce")
              << ")\n";
  });
}

}  // namespace trimtab
