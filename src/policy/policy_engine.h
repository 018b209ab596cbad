// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/clock.h"
#include "common/result.h"
#include "controller/decision.h"
#include "controller/knob.h"

namespace trimtab {

class SeriesStore;
class LuaSandbox;
class LineObserver;
class PredictService;  // src/predict (issue #3); may be null

// Bounds on what one policy may cost. Config keys under `policy_limits:`.
inline constexpr Seconds kMinCpuBudget = 0.001;
inline constexpr Seconds kMaxCpuBudget = 60;
struct PolicyLimits {
  Seconds cpuBudget = 0.05;                // CPU per tick (and for loading the file)
  std::size_t memoryCapBytes = 32u << 20;  // per Lua state
  int quarantineAfterErrors = 3;           // consecutive failed ticks; 0: never
};

// A config value for a policy param. A map of strings sets a table param
// (e.g. label matchers: {database: app}); its default must be a table.
using ParamMap = std::map<std::string, std::string>;
using ParamValue = std::variant<double, bool, std::string, ParamMap>;

// One policy entry of the config.
struct PolicySpec {
  std::string file;
  std::string name;      // "": the policy's own `name`; else replaces it (one file run twice)
  Seconds interval = 0;  // 0: the policy's own `interval`, else 10 s
  int priority = 0;      // higher wins conflicts on a knob
  int order = 0;         // position in the config (ties: earlier wins)
  int configLine = 0;    // where the config declares it, for messages (0: unknown)
  int configColumn = 0;
  std::map<std::string, ParamValue> params;  // override the policy's defaults
  // Where the config gives each param's value (line, column), for messages.
  std::map<std::string, std::pair<int, int>> paramLocations;
};

// What policies can see of the controller. The controller implements it; unit
// tests use a fake over a real SeriesStore.
class PolicyHost {
 public:
  virtual ~PolicyHost() = default;
  virtual Seconds now() const = 0;
  virtual SeriesStore& store() = 0;
  virtual const KnobState* knob(const std::string& name) const = 0;
  // Every knob's name, for "did you mean" when a policy proposes an unknown
  // knob. Optional: the default gives no suggestion.
  virtual std::vector<std::string> knobNames() const { return {}; }
  virtual PredictService* predict() { return nullptr; }
};

// The result of one tick of one policy.
struct PolicyTickResult {
  Status status;                    // not ok: error, budget or memory exceeded (message has file:line)
  std::vector<Proposal> proposals;  // empty when status is not ok
  std::vector<std::string> logs;    // ctx.log() lines, "policy: message"
  std::vector<MissingRead> missing; // reads that found no data, each once (at most kMaxReportedMissing)
  Seconds duration = 0;             // CPU-side wall time of the tick (0 unless the engine is timed)
};

// Runs Lua policies, one sandboxed lua_State per policy.
//
// A policy file returns a table: name (string), interval (duration string or
// seconds, optional), description (optional), params (table of defaults,
// optional), inputs (metrics to keep history for from the start, optional),
// tick(ctx) (function). See docs/policy-api.md.
//
// Thread safety: none; owned by the loop thread.
class PolicyEngine {
 public:
  PolicyEngine(PolicyLimits limits, PolicyHost& host);
  ~PolicyEngine();
  PolicyEngine(const PolicyEngine&) = delete;
  PolicyEngine& operator=(const PolicyEngine&) = delete;

  // Compiles and checks a policy, then adds it. Errors name file:line.
  Status add(const PolicySpec& spec);
  // Compile and check only, without a host (trimtab check). On success
  // `name`, when given, receives the policy's name (names must be unique).
  static Status check(const PolicySpec& spec, const PolicyLimits& limits, std::string* name = nullptr);

  // Policy names in config order (asked every tick: kept, not built). A
  // reload that renames a policy changes it.
  const std::vector<std::string>& names() const;
  Seconds interval(const std::string& name) const;
  const std::string& file(const std::string& name) const;

  // Runs tick(ctx) of one policy now. A failing tick counts toward quarantine;
  // a quarantined policy is not run (status says so).
  PolicyTickResult tick(const std::string& name, Seconds now);
  // Whether tick() measures its duration (two clock reads; default on).
  void setTimed(bool timed) { timed_ = timed; }

  // Recompiles the policy from its file. On failure the old version keeps
  // running and the error is returned (and counted in reloadFailures()).
  // A successful reload clears quarantine and keeps ctx.state only if the new
  // version's name is unchanged. On success `newName`, when given, receives
  // the policy's name after the reload (the file may have renamed it).
  Status reload(const std::string& name, std::string* newName = nullptr);
  // Names of the policies whose file, or a library path its load looked at
  // with require (policy_library.h), changed (file_stamp.h: contents, inode,
  // mode or owner) since it was last loaded or a reload was last attempted,
  // so a file that fails to reload is retried only when it changes again.
  std::vector<std::string> changedPolicies() const;

  // For `trimtab test`: policies added or reloaded from now on report every
  // line they run to `observer` (null: off). It must outlive the engine.
  void setLineObserver(LineObserver* observer) { lineObserver_ = observer; }
  // For `trimtab test`: copies the policy's ctx.state (plain data) into
  // `into`, where it stays referenced from the registry; returns that
  // reference (luaL_unref it when done). Errors: unknown policy, or `into`
  // ran out of memory.
  Result<int> copyState(const std::string& name, LuaSandbox& into) const;

  bool quarantined(const std::string& name) const;
  std::size_t quarantinedCount() const;
  std::uint64_t reloadFailures() const;

 private:
  struct LoadedPolicy;
  LoadedPolicy* find(const std::string& name) const;
  PolicyLimits limits_;
  PolicyHost& host_;
  std::vector<std::unique_ptr<LoadedPolicy>> policies_;
  std::vector<std::string> names_;  // policies_[i]->compiled->name
  std::uint64_t reloadFailures_ = 0;
  LineObserver* lineObserver_ = nullptr;
  bool timed_ = true;
};

}  // namespace trimtab
