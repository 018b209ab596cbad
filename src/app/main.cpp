// SPDX-License-Identifier: Apache-2.0
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "trimtab: a sidecar that reads a service's metrics, predicts trends and runs Lua policies\n"
      "that retune its knobs (pool sizes, cache TTLs, metric intervals) within safe bounds."};
  app.require_subcommand(1);
  app.set_version_flag("--version", trimtab::kTrimtabVersion);
  trimtab::addRunCommand(app);
  trimtab::addCheckCommand(app);
  trimtab::addScrapeCommand(app);
  trimtab::addJournalCommand(app);
  trimtab::addSimCommand(app);
  trimtab::addReplayCommand(app);
  trimtab::addTestCommand(app);
  auto* version = app.add_subcommand("version", "Print the version");
  version->callback([] { std::cout << "trimtab " << trimtab::kTrimtabVersion << "\n"; });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Also CLI::RuntimeError, which the subcommands throw with their exit code.
    return app.exit(e);
  }
  return 0;
}
