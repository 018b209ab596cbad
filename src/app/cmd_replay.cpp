// SPDX-License-Identifier: Apache-2.0
// `trimtab replay`: recorded series through the policies and the governor,
// in dry-run, printing what they would have decided, when and why.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.h"
#include "common/units.h"
#include "sim/driver/number_format.h"
#include "sim/driver/replay.h"

namespace trimtab {

namespace {

using namespace trimtab::sim;

struct ReplayOptions {
  std::string file;
  std::vector<std::string> policies;
  std::string config;
  std::vector<std::string> knobs;
  std::string interval;
  bool all = false;
  bool json = false;
  std::string logLevel = "error";
};

[[noreturn]] void fail(const std::string& message, int code) {
  std::cerr << "trimtab replay: " << message << "\n";
  throw CLI::RuntimeError(code);
}

ReplaySetup buildSetup(const ReplayOptions& o, const Recording& recording) {
  ReplaySetup setup;
  if (!o.config.empty()) {
    auto diagnostics = std::make_shared<ConfigDiagnostics>();
    setup.config = loadConfig(o.config, diagnostics);
    if (!diagnostics->empty()) {
      std::cerr << diagnostics->format();
      fail(o.config + ": fix the problems above (trimtab check --config " + o.config + ")", 1);
    }
  } else {
    setup.config.service = "replay";
  }
  for (const auto& file : o.policies) {
    PolicySpec p;
    p.file = file;
    p.order = static_cast<int>(setup.config.policies.size());
    setup.config.policies.push_back(p);
  }
  for (const auto& text : o.knobs) {
    auto spec = parseKnobOption(text, recording);
    if (!spec) fail(spec.error().message, 2);
    auto& knobs = setup.config.knobs;
    auto it = std::find_if(knobs.begin(), knobs.end(), [&](const KnobConfig& k) { return k.spec.name == spec->name; });
    if (it != knobs.end()) {
      it->spec = *spec;
    } else {
      KnobConfig k;
      k.spec = *spec;
      k.actuatorKind = "replay";
      knobs.push_back(std::move(k));
    }
  }
  if (!o.interval.empty()) {
    auto d = parseDuration(o.interval);
    if (!d || *d <= 0) fail("--interval: expected a duration > 0, e.g. 15s", 2);
    setup.interval = *d;
  }
  return setup;
}

void runReplayCommand(const ReplayOptions& o) {
  setupLogging("text", o.logLevel);
  auto recording = loadRecording(o.file);
  if (!recording) fail(recording.error().message, 1);
  ReplaySetup setup = buildSetup(o, *recording);
  std::string policies;
  for (const auto& p : setup.config.policies) policies += (policies.empty() ? "" : ", ") + p.file;
  if (!o.json) {
    std::cout << "replaying " << o.file << ": " << recording->samples.size() << " samples of " << recording->series
              << " series (" << recording->format << "), " << formatReplayTime(recording->start) << " to "
              << formatReplayTime(recording->end) << "\npolicies: " << policies << " (dry-run: nothing is applied)\n";
  }
  if (setup.config.knobs.empty()) {
    // Not an error (a policy may only log), but the usual reason for a
    // replay that decides nothing: ctx.knob() is nil for every name.
    std::cerr << "trimtab replay: warning: no knobs: policies see ctx.knob() as nil and propose nothing; give "
                 "--knob NAME[=VALUE,min=A,max=B] or --config\n";
  }
  std::size_t unchanged = 0;
  auto result = runReplay(*recording, std::move(setup), [&](const JournalRecord& r) {
    if (r.kind == "event" && (r.event == "start" || r.event == "stop")) return;
    if (r.kind == "outcome") return;
    if (r.kind == "decision" && r.decision.verdict == Verdict::Unchanged && !o.all) {
      ++unchanged;
      return;
    }
    std::cout << (o.json ? toJsonLine(r) : formatReplayRecord(r)) << "\n";
  });
  if (!result) fail(result.error().message, 1);
  if (o.json) return;
  std::cout << "\ncollected every " << formatNumber(result->interval) << " s; " << result->stats.policyTicks
            << " policy ticks, " << result->stats.policyErrors << " failed";
  for (const auto& [verdict, n] : result->stats.decisionsByVerdict) std::cout << "; " << n << " " << verdict;
  if (unchanged > 0 && !o.all) std::cout << " (unchanged not shown: --all)";
  std::cout << "\n";
  for (const auto& [knob, k] : result->knobs) {
    std::cout << knob << ": baseline " << formatNumber(k.baseline) << ", would have changed " << k.changes
              << " time" << (k.changes == 1 ? "" : "s");
    if (k.changes > 0)
      std::cout << ", ending at " << formatNumber(k.last) << " (range " << formatNumber(k.min) << " .. "
                << formatNumber(k.max) << ")";
    std::cout << "\n";
  }
}

}  // namespace

void addReplayCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("replay",
                                 "Feed recorded series through policies (dry-run) and print what they would have decided");
  auto o = std::make_shared<ReplayOptions>();
  cmd->add_option("file", o->file,
                  "Recording: trimtab JSON lines (trimtab sim --record), or CSV from a Prometheus range query "
                  "(long: timestamp,metric,value; wide: time,<series>,...)")
      ->required();
  cmd->add_option("--policy", o->policies, "Policy file (repeatable)");
  cmd->add_option("-c,--config", o->config, "trimtab.yaml whose knobs, governor settings and policies to use");
  cmd->add_option("--knob", o->knobs,
                  "Knob the policies may propose: NAME[=BASELINE][,min=X,max=Y,max_step=S,cooldown=D,deadband=B,type=int|float] "
                  "(repeatable; without a baseline, the first recorded value of series NAME)");
  cmd->add_option("--interval", o->interval, "Collection interval (default: the recording's sample spacing)");
  cmd->add_flag("--all", o->all, "Also print unchanged decisions");
  cmd->add_flag("--json", o->json, "Print journal records as JSON lines instead of text");
  cmd->add_option("--log-level", o->logLevel, "trace, debug, info, warn, error (default error)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->callback([o] { runReplayCommand(*o); });
}

}  // namespace trimtab
