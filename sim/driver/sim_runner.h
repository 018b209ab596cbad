// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/journal.h"
#include "scenario.h"
#include "scenario_models.h"
#include "scores.h"
#include "sim_source.h"
#include "timeline.h"

namespace trimtab::sim {

struct RunOptions {
  bool perturb = false;                       // --perturb: parameters drawn per seed
  RecordingSink* recorder = nullptr;          // every delivered sample (--record)
  std::string journalPath;                    // the controller's journal; "" = none
  std::atomic<double>* progress = nullptr;    // simulated seconds done are added here
  const std::atomic<bool>* cancel = nullptr;  // stop early (the result is then an Error)
  bool tickEveryStep = false;                 // tests: tick at every step, not only when due
};

// Bounds on what one run keeps for the report (the scores count everything).
inline constexpr std::size_t kMaxKeptDecisions = 20000;
inline constexpr std::size_t kMaxKeptVetoes = 1000;
inline constexpr std::size_t kMaxKeptEvents = 50000;

// A name the run's policies read that the scenario does not have: a metric
// family no model publishes, or a knob it does not govern (a misspelt name,
// or one of a set-up the scenario does not simulate).
struct UnknownRead {
  std::string name;
  std::uint64_t ticks = 0;  // policy ticks that read it
  std::string suggestion;   // the closest name the scenario has, or ""
};

struct RunResult {
  std::string config;
  std::uint64_t seed = 0;
  Scores scores;
  Timeline timeline;
  std::vector<RunEvent> events;          // time order; at most kMaxKeptEvents
  std::size_t eventsDropped = 0;
  std::vector<JournalRecord> decisions;  // applied and dry-run decisions, the first vetoes
  std::size_t decisionsDropped = 0;
  ControllerStats stats;
  std::vector<UnknownRead> unpublishedMetrics;
  std::vector<UnknownRead> ungovernedKnobs;
  std::vector<AppliedPerturbation> perturbations;
  double memoryLimitBytes = 0;  // process_memory_limit_bytes, 0 without a memory model
};

// Runs one config of a scenario with one seed: the models stand in for the
// service, and the production controller (store, policy engine, governor,
// journal) reads them through a SimSource and changes them through
// SimActuators, on a virtual clock.
//
// Time: the models step every `scenario.step`; the controller ticks at the
// end of a step, and only in the steps where its source or a policy is due
// (its due times are mirrored here), so a month of 1 s steps costs the model
// steps plus the controller's real work. The sim source's interval starts at
// the monitoring model's interval and the two stay equal whichever side
// changes (a `sim` knob on scrape_interval_seconds or the `self` actuator).
//
// Deterministic: the same scenario, config, seed and options give identical
// results; no wall-clock time enters them. Thread-compatible: runs share
// nothing, so several may run on different threads at once.
Result<RunResult> runSimulation(const Scenario& scenario, const ScenarioConfig& config, std::uint64_t seed,
                                const RunOptions& options = {});

}  // namespace trimtab::sim
