// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "actuators/actuator.h"
#include "common/config_node.h"
#include "controller/journal.h"
#include "controller/knob.h"
#include "controller/series_store.h"
#include "policy/policy_engine.h"
#include "sources/metric_source.h"

namespace trimtab {

struct SourceConfig {
  SourceSpec spec;
  ConfigNode params;  // the kind-specific keys, read by the source's factory
};

struct KnobConfig {
  KnobSpec spec;
  std::string actuatorKind;  // registry name: "http", "exec", "self", "log", ...
  ConfigNode actuatorParams; // read by the actuator's factory
};

struct ServerConfig {
  bool enabled = true;
  std::string listen = "127.0.0.1:9464";  // own /metrics, /healthz, /readyz
};

struct LogConfig {
  std::string format = "text";  // text | json
  std::string level = "info";   // trace | debug | info | warn | error
};

// A whole trimtab.yaml, as plain structs (see docs/config.md). Paths are
// already resolved relative to the config file's directory.
struct Config {
  std::string file;
  std::string service;
  Seconds tick = 1;
  bool dryRun = false;          // mode: dry-run
  bool watchPolicies = true;    // hot reload on file change (SIGHUP always reloads)
  StoreOptions store;
  PolicyLimits policyLimits;
  std::vector<SourceConfig> sources;
  std::vector<KnobConfig> knobs;
  std::vector<PolicySpec> policies;
  JournalOptions journal;
  ServerConfig server;
  LogConfig log;
};

// Parses and validates a config file into plain structs. Every problem is
// added to `diagnostics` (file:line:column: key.path: what was expected);
// nothing is built and no extension header is included.
Config loadConfig(const std::string& file, const std::shared_ptr<ConfigDiagnostics>& diagnostics);
Config loadConfigString(const std::string& text, const std::string& file,
                        const std::shared_ptr<ConfigDiagnostics>& diagnostics);

// The `params:` of a policy entry (a trimtab.yaml policy, or a scenario
// config's): numbers, true/false, strings, and mappings for table params.
// Problems go to the entry's diagnostics.
void readPolicyParams(ConfigNode& entry, std::map<std::string, ParamValue>& out,
                      std::map<std::string, std::pair<int, int>>* locations = nullptr);

// `policy_limits:` (cpu_budget, memory_cap, quarantine_after_errors) over the
// defaults already in `limits`; shared by trimtab.yaml and the scenarios.
void readPolicyLimits(ConfigNode node, PolicyLimits& limits);

}  // namespace trimtab
