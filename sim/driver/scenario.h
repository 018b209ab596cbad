// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config_node.h"
#include "common/result.h"
#include "controller/knob.h"
#include "controller/series_store.h"
#include "policy/policy_engine.h"

namespace trimtab::sim {

// A knob the controller governs in a scenario: the same keys as a knob of
// trimtab.yaml (docs/config.md), with bounds, unit and type defaulting to what
// the model that owns it accepts, and the baseline to the model's value.
struct ScenarioKnob {
  KnobSpec spec;
  bool baselineGiven = false;  // `baseline:` in the scenario (else the model's value)
  bool trigger = false;        // an action (gc_collect, cache_flush, ...): no direction, no flaps
  std::string actuator = "sim";  // "sim": the model's knob; "self": the sim source's interval
};

// One column of the comparison: static knob values set at t = 0 and/or
// policies run by the controller.
struct ScenarioConfig {
  std::string name;
  std::string description;
  std::map<std::string, double> knobValues;  // model knob -> value at t = 0 (baseline of governed knobs)
  std::vector<PolicySpec> policies;          // files resolved to paths
  bool dryRun = false;
};

// Multiply every `key` of the models of `kind` by a uniform factor in
// [1 - spread, 1 + spread], drawn per seed (trimtab sim --perturb).
struct Perturbation {
  std::string kind;  // model kind, e.g. "load.diurnal"
  std::string key;   // e.g. "mean_rps"
  double spread = 0;
};

// A scenario file (sim/scenarios/*.yaml, see docs/simulator.md), validated.
// Models are kept as YAML text and rebuilt for every run, so that runs on
// different threads share nothing mutable.
struct Scenario {
  std::string file;
  std::string name;
  std::string description;
  std::string text;               // the YAML document
  Seconds duration = 86400;
  Seconds step = 1;
  std::uint64_t seed = 1;
  Seconds sloLatencyP95 = 0.5;    // SLO: p95 latency target
  Seconds flapWindow = 600;       // a reversal within this window of the previous change is a flap
  // The score a policy for this scenario is judged on first (a name of
  // namedScores(), e.g. "oom_kills"); the policy comparison reports it.
  std::string primaryScore = "slo_violation_seconds";
  Seconds sample = 0;             // timeline bucket; 0: automatic (about 2000 buckets)
  std::string sourceName = "app"; // the sim source as the controller names it
  Seconds sourceInterval = 10;    // used when no monitoring model sets it
  StoreOptions store;
  PolicyLimits policyLimits;
  std::vector<ScenarioKnob> knobs;
  std::vector<ScenarioConfig> configs;
  std::vector<Perturbation> perturb;

  const ScenarioConfig* config(const std::string& name) const;
  const ScenarioKnob* knob(const std::string& name) const;
  // The timeline bucket actually used: `sample`, or about 2000 buckets, as a
  // whole number of steps.
  Seconds sampleInterval() const;
};

inline constexpr Seconds kMaxScenarioDuration = 366.0 * 86400;
inline constexpr std::size_t kMaxScenarioSteps = 100'000'000;
inline constexpr std::size_t kAutoTimelineBuckets = 2000;
inline constexpr double kTriggerKnobMax = 1e15;

// Why `duration` is not a run of whole `step`s ("" when it is): the runner
// would round it, and the report would name a time that was not simulated.
std::string durationStepMismatch(Seconds duration, Seconds step);

// Reads and checks a scenario: every model is built once (so unknown models,
// bad parameters and unknown knobs are reported with file and line), every
// policy file must exist. All problems go to `diagnostics`; the result is an
// Error when there is any (an unreadable file is only the Error).
Result<Scenario> loadScenario(const std::string& file, const std::shared_ptr<ConfigDiagnostics>& diagnostics);
Result<Scenario> loadScenarioString(const std::string& text, const std::string& file,
                                    const std::shared_ptr<ConfigDiagnostics>& diagnostics);

// A config given on the command line (`--compare FILE`): a YAML file with the
// keys of one `configs:` entry. Policy paths are relative to that file.
Result<ScenarioConfig> loadConfigFile(const std::string& file, const Scenario& scenario,
                                      const std::shared_ptr<ConfigDiagnostics>& diagnostics);

// The config of `--policy P ...`: those policies (paths as given), over the
// static values of the scenario's baseline config (its first config).
ScenarioConfig policyConfig(const Scenario& scenario, const std::vector<std::string>& policyFiles);

}  // namespace trimtab::sim
