// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "scenario.h"
#include "sim_runner.h"

namespace trimtab::sim {

// Every run of one `trimtab sim` invocation: configs (columns) x seeds.
struct SimReport {
  Scenario scenario;
  std::vector<ScenarioConfig> configs;
  std::vector<std::uint64_t> seeds;
  bool perturb = false;
  std::vector<std::vector<RunResult>> runs;  // runs[config][seed], same order as above
  std::vector<Scores> means;                 // per config, over seeds
};

struct BatchOptions {
  std::vector<std::uint64_t> seeds;
  bool perturb = false;
  unsigned threads = 2;      // workers; each run has its own models, controller and Lua states
  std::string recordDir;     // "": no recording; else recording-<config>-seed<N>.jsonl there
  std::string journalDir;    // "": no journal; else journal-<config>-seed<N>.jsonl there
  // Called about every 100 ms on the calling thread with the simulated
  // seconds done and the total (for a progress bar); may be empty.
  std::function<void(double done, double total)> progress;
};

inline constexpr unsigned kMaxThreads = 64;

// Runs every (config, seed) pair on up to `threads` worker threads. Results
// do not depend on the number of threads or on scheduling. The first failing
// run's error is returned (the others are cancelled).
Result<SimReport> runBatch(const Scenario& scenario, std::vector<ScenarioConfig> configs,
                           const BatchOptions& options);

// "recording-<config>-seed<N>.jsonl" style names, safe for any config name.
std::string runFileName(const std::string& prefix, const std::string& config, std::uint64_t seed,
                        const std::string& extension);

}  // namespace trimtab::sim
