// SPDX-License-Identifier: Apache-2.0
// `trimtab sim`: runs a scenario's configs (and --policy files) on the
// simulator and writes the comparison (docs/simulator.md).
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>

#include "app/commands.h"
#include "common/units.h"
#include "policy/policy_entry_check.h"
#include "sim/driver/number_format.h"
#include "sim/driver/report_csv.h"
#include "sim/driver/report_html.h"
#include "sim/driver/report_json.h"
#include "sim/driver/report_text.h"
#include "sim/driver/scenario_models.h"
#include "sim/driver/sim_batch.h"

namespace trimtab {

namespace {

namespace fs = std::filesystem;
using namespace trimtab::sim;

constexpr double kProgressAfterSeconds = 2;  // a bar only for runs longer than this
constexpr int kBarWidth = 30;

struct SimOptions {
  std::string scenario;
  std::vector<std::string> policies;
  std::vector<std::string> compare;
  unsigned seeds = 1;
  std::int64_t seed = -1;
  std::string out;
  std::string duration;
  bool perturb = false;
  unsigned threads = 2;
  bool record = false;
  bool journal = false;
  bool timing = false;
  std::string logLevel = "error";
};

[[noreturn]] void fail(const std::string& message, int code = 1) {
  std::cerr << "trimtab sim: " << message << "\n";
  throw CLI::RuntimeError(code);
}

Status writeFile(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return makeError(path.string() + ": cannot write");
  return Status::success();
}

std::vector<ScenarioConfig> selectConfigs(const Scenario& scenario, const SimOptions& o) {
  std::vector<ScenarioConfig> configs;
  if (o.compare.empty() && o.policies.empty()) return scenario.configs;
  if (o.compare.empty()) configs.push_back(scenario.configs.front());  // the baseline
  for (const auto& name : o.compare) {
    if (const ScenarioConfig* c = scenario.config(name)) {
      configs.push_back(*c);
      continue;
    }
    std::error_code ec;
    if (!fs::is_regular_file(name, ec)) {
      std::vector<std::string> names;
      for (const auto& c : scenario.configs) names.push_back(c.name);
      std::string guess = closestMatch(name, names);
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      fail("--compare " + name + ": no config of that name in " + scenario.file + " and no such file" +
           (guess.empty() ? "" : " (did you mean '" + guess + "'?)") + "; configs: " + known, 2);
    }
    auto diagnostics = std::make_shared<ConfigDiagnostics>();
    auto loaded = loadConfigFile(name, scenario, diagnostics);
    // The file's content is at fault, not the options: as a scenario's own error.
    if (!loaded) fail("--compare " + name + ":\n" + loaded.error().message, 1);
    configs.push_back(std::move(*loaded));
  }
  if (!o.policies.empty()) {
    for (const auto& p : o.policies) {
      std::error_code ec;
      if (!fs::is_regular_file(p, ec)) fail("--policy " + p + ": no such file", 2);
    }
    configs.push_back(policyConfig(scenario, o.policies));
    PolicyEntryCheck entries(scenario.policyLimits);
    for (const auto& policy : configs.back().policies) {  // before any run, as the scenario's own policies
      if (Status checked = entries.check(policy); !checked)
        fail("--policy " + policy.file + ": " + checked.error().message, 1);
    }
  }
  std::set<std::string> names;
  for (const auto& c : configs) {
    if (names.insert(c.name).second) continue;
    if (!o.policies.empty() && &c == &configs.back())  // the --policy column is named after its file
      fail("--policy: the column would be named '" + c.name + "', as a config it is compared with; rename the file", 2);
    fail("config '" + c.name + "' is compared twice", 2);
  }
  return configs;
}

// Every seed's draws, before any run: a drawn value a model refuses (a
// fraction for a pool's size, a limit below the baseline) would otherwise
// fail the batch midway, at a value nobody wrote.
void checkDraws(const Scenario& scenario, const std::vector<std::uint64_t>& seeds) {
  for (std::uint64_t seed : seeds) {
    ModelStack trial(seed);
    std::vector<AppliedPerturbation> drawn;
    Status built = addScenarioModels(scenario, seed, trial, &drawn);
    if (built) built = trial.attach();
    if (built) continue;
    std::string refused = built.error().message;
    while (!refused.empty() && refused.back() == '\n') refused.pop_back();
    std::string values;
    for (const auto& d : drawn)
      values += (values.empty() ? "" : ", ") + d.path + " = " + fmt::format("{:.6g} (x{:.4f})", d.value, d.factor);
    fail("--perturb: seed " + std::to_string(seed) + " draws values its models refuse (perturb only parameters "
         "that take any value in the spread):\n" + refused + "\ndrawn: " + values, 1);
  }
}

void drawProgress(double done, double total, double elapsed) {
  if (elapsed < kProgressAfterSeconds || total <= 0) return;
  const double fraction = std::min(1.0, done / total);
  const int filled = static_cast<int>(fraction * kBarWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.append(static_cast<std::size_t>(kBarWidth - filled), '.');
  std::fprintf(stderr, "\r[%s] %3.0f%%  %.1f of %.1f simulated days", bar.c_str(), fraction * 100, done / 86400,
               total / 86400);
  std::fflush(stderr);
}

void writeOutputs(const SimReport& report, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) fail(dir.string() + ": cannot create: " + ec.message());
  std::vector<std::pair<fs::path, std::string>> files = {
      {dir / "summary.json", summaryJson(report)},
      {dir / "timeline.csv", timelineCsv(report)},
      {dir / "events.csv", eventsCsv(report)},
      {dir / "report.html", htmlReport(report)},
  };
  for (std::size_t c = 0; c < report.configs.size(); ++c)
    for (const auto& run : report.runs[c])
      files.emplace_back(dir / runFileName("decisions", report.configs[c].name, run.seed, "jsonl"),
                         decisionsJsonLines(run));
  for (const auto& [path, text] : files)
    if (Status s = writeFile(path, text); !s) fail(s.error().message);
  std::cout << "wrote " << (dir / "summary.json").string() << ", timeline.csv, events.csv, report.html, decisions-*.jsonl\n";
}

void runSim(const SimOptions& o) {
  setupLogging("text", o.logLevel);
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto loaded = loadScenario(o.scenario, diagnostics);
  if (!loaded) {
    std::cerr << (diagnostics->empty() ? loaded.error().message + "\n" : diagnostics->format());
    fail(o.scenario + ": not run, fix the problems above", 1);
  }
  Scenario scenario = std::move(*loaded);
  if (!o.duration.empty()) {
    auto d = parseDuration(o.duration);
    if (!d) fail("--duration: " + d.error().message, 2);
    if (*d < scenario.step || *d > kMaxScenarioDuration)
      fail("--duration: expected a duration between the step and 366d, got '" + o.duration + "'", 2);
    if (*d / scenario.step > static_cast<double>(kMaxScenarioSteps))
      fail("--duration: expected at most " + std::to_string(kMaxScenarioSteps) + " steps per run", 2);
    if (std::string why = durationStepMismatch(*d, scenario.step); !why.empty()) fail("--duration: " + why, 2);
    scenario.duration = *d;
  } else if (std::string why = durationStepMismatch(scenario.duration, scenario.step); !why.empty()) {
    fail(scenario.file + ": the step does not divide the default duration of 1d: give a duration: or "
         "--duration (" + why + ")", 1);
  }
  if (o.seed >= 0) scenario.seed = static_cast<std::uint64_t>(o.seed);
  std::vector<ScenarioConfig> configs = selectConfigs(scenario, o);
  const fs::path dir = o.out.empty() ? fs::path("sim-out") / scenario.name : fs::path(o.out);

  BatchOptions batch;
  for (unsigned i = 0; i < o.seeds; ++i) batch.seeds.push_back(scenario.seed + i);
  batch.perturb = o.perturb;
  if (o.perturb) checkDraws(scenario, batch.seeds);
  batch.threads = o.threads;
  if (o.record || o.journal) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (o.record) batch.recordDir = dir.string();
    if (o.journal) batch.journalDir = dir.string();
  }
  const auto started = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(); };
  bool drew = false;
  if (isatty(STDERR_FILENO)) {
    batch.progress = [&](double done, double total) {
      drawProgress(done, total, elapsed());
      drew = drew || elapsed() >= kProgressAfterSeconds;
    };
  }
  auto report = runBatch(scenario, std::move(configs), batch);
  if (drew) std::fprintf(stderr, "\r%*s\r", kBarWidth + 50, "");
  if (!report) fail(report.error().message);
  std::cout << summaryTable(*report);
  writeOutputs(*report, dir);
  std::cout.flush();
  std::cerr << problemsText(*report);
  if (o.timing) {
    const double wall = elapsed();
    const double simulated = scenario.duration * static_cast<double>(report->configs.size() * report->seeds.size());
    std::fprintf(stderr, "timing: %.0f simulated s in %.3f s wall (%.0f simulated s per s), %u thread(s)\n",
                 simulated, wall, simulated / std::max(wall, 1e-9), o.threads);
  }
}

}  // namespace

void addSimCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("sim", "Run a scenario on the simulator and compare configs and policies");
  auto o = std::make_shared<SimOptions>();
  cmd->add_option("scenario", o->scenario, "Scenario file (YAML, e.g. sim/scenarios/flash_crowd.yaml)")->required();
  cmd->add_option("--policy", o->policies, "Policy file to try (repeatable: together they form one config)");
  cmd->add_option("--compare", o->compare,
                  "Config to compare: a name from the scenario's configs, or a YAML file with one config "
                  "(repeatable; default: all of the scenario's configs)");
  cmd->add_option("--seeds", o->seeds, "Number of seeds per config (seed, seed+1, ...; scores are means; default 1)")
      ->check(CLI::Range(1u, 10000u));
  cmd->add_option("--seed", o->seed, "First seed (default: the scenario's)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--out", o->out, "Output directory (default: sim-out/<scenario name>)");
  cmd->add_option("--duration", o->duration, "Override the scenario's duration, e.g. 1d");
  cmd->add_flag("--perturb", o->perturb,
                "Draw the scenario's perturb: parameters (default: load levels +-20 %) per seed");
  cmd->add_option("--threads", o->threads, "Worker threads (default 2)")->check(CLI::Range(1u, kMaxThreads));
  cmd->add_flag("--record", o->record, "Also write what the controller scraped (recording-*.jsonl, for replay)");
  cmd->add_flag("--journal", o->journal, "Also write each run's decision journal (journal-*.jsonl)");
  cmd->add_flag("--timing", o->timing, "Print wall time and simulated seconds per second on stderr");
  cmd->add_option("--log-level", o->logLevel, "trace, debug, info, warn, error (default error)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));
  cmd->callback([o] { runSim(*o); });
}

}  // namespace trimtab
