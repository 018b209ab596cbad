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
    // Prints the help, or the error with "Run with --help".
    const int code = app.exit(e);
    // The subcommands throw CLI::RuntimeError with trimtab's own code. The
    // parser's codes for bad options (105, 106, 109, ...) would mean nothing
    // to a script: trimtab's are 0 done, 1 failed, 2 bad usage.
    if (code == 0 || dynamic_cast<const CLI::RuntimeError*>(&e) != nullptr) return code;
    return 2;
  }
  return 0;
}
