// SPDX-License-Identifier: Apache-2.0
#include <CLI/CLI.hpp>
#include <spdlog/spdlog.h>

#include <iostream>

#include "actuators/child_process.h"
#include "app/commands.h"
#include "app/load_config.h"
#include "common/units.h"
#include "controller/live_loop.h"

namespace trimtab {

void addRunCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("run", "Run the control loop live against the configured service");
  struct Options {
    std::string file;
    bool dryRun = false;
    std::string duration;
    bool printDecisions = false;
    bool summary = false;
    std::string logFormat;
    std::string logLevel;
  };
  auto o = std::make_shared<Options>();
  cmd->add_option("-c,--config", o->file, "Config file (YAML)")->required();
  cmd->add_flag("--dry-run", o->dryRun, "Record decisions without applying them (overrides mode)");
  cmd->add_option("--duration", o->duration, "Stop by itself after this long, e.g. 30s (default: run until SIGTERM)");
  cmd->add_flag("--print-decisions", o->printDecisions, "Print each decision and outcome on stdout as it happens");
  cmd->add_flag("--summary", o->summary, "Print a summary of the run on stdout at exit");
  cmd->add_option("--log-format", o->logFormat, "text or json (overrides log.format)")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--log-level", o->logLevel, "trace, debug, info, warn, error (overrides log.level)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->callback([o] {
    LiveOptions live;
    if (!o->duration.empty()) {
      auto d = parseDuration(o->duration);
      if (!d.ok()) {
        std::cerr << "--duration: " << d.error().message << "\n";
        throw CLI::RuntimeError(2);
      }
      if (!(*d > 0)) {  // 0 would mean "no limit" below: say so rather than run for ever
        std::cerr << "--duration: expected a duration above 0 (leave it out to run until SIGTERM)\n";
        throw CLI::RuntimeError(2);
      }
      live.duration = *d;
    }
    live.printDecisions = o->printDecisions;
    live.printSummary = o->summary;
    live.onAbandon = [] {
      // An exec command left running would change its knob after trimtab is
      // gone, with nobody to journal the outcome.
      constexpr Seconds kTermGrace = 1;
      if (std::size_t n = stopRunningChildren(kTermGrace); n > 0)
        spdlog::error("stopped {} exec command(s) still running: SIGTERM, then SIGKILL after {} s", n, kTermGrace);
    };
    auto loaded = loadAndCompile(o->file, &o->dryRun);
    const LogConfig& log = loaded.compiled.config.log;
    setupLogging(o->logFormat.empty() ? log.format : o->logFormat, o->logLevel.empty() ? log.level : o->logLevel);
    if (!loaded.diagnostics->empty()) {
      std::cerr << loaded.diagnostics->format();
      std::cerr << o->file << ": not started, fix the problems above (trimtab check --config " << o->file << ")\n";
      throw CLI::RuntimeError(1);
    }
    int code = runLive(std::move(loaded.compiled), loaded.intervals, live, std::cout);
    if (code != 0) throw CLI::RuntimeError(code);
  });
}

}  // namespace trimtab
