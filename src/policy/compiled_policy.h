// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <lua.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "policy/lua_sandbox.h"
#include "policy/policy_context.h"
#include "policy/policy_engine.h"
#include "policy/policy_library.h"

namespace trimtab {

// A policy that gives no interval, and whose config entry gives none, ticks
// this often.
inline constexpr Seconds kDefaultPolicyInterval = 10;
inline constexpr std::size_t kMaxPolicyNameLength = 64;

// A metric a policy declares up front (`inputs`), so the store keeps its
// history before the first tick reads it.
struct PolicyInput {
  std::string metric;
  Seconds window = 0;
};

// A policy file compiled into its own sandbox and checked: ready to tick.
struct CompiledPolicy {
  std::unique_ptr<PolicyLibrary> library;  // require(); outlives the sandbox that calls it
  std::unique_ptr<LuaSandbox> sandbox;
  std::unique_ptr<PolicyContext> context;  // its Lua side lives in sandbox
  std::string file;
  std::string name;
  std::string description;
  Seconds ownInterval = 0;  // the file's `interval`; 0 when it gives none
  Seconds interval = kDefaultPolicyInterval;  // effective: config, else own, else default
  std::vector<PolicyInput> inputs;
  std::vector<std::string> paramNames;  // declared defaults, sorted
  int tickRef = LUA_NOREF;
};

// Loads spec.file (text chunks only) into a new sandbox, runs it, checks the
// table it returns (name, interval, description, params, optional, inputs, tick; any
// other key that is not a function is an error) and merges spec.params into
// the declared defaults: a param must be declared; a string given for a
// number default is read as a duration ("50ms") or a size ("2GiB").
// `host` may be null (check only). When `previous` is given and the new
// version keeps its name, previous ctx.state is copied over (plain data).
// Errors start with the file name and carry the line when Lua knows it.
// `lineObserver` (may be null) sees every line the policy runs, its loading
// included (line coverage). `watched` (may be null) receives, success or
// not, the library paths the load looked at (PolicyLibrary::watched()).
Result<std::unique_ptr<CompiledPolicy>> compilePolicy(const PolicySpec& spec, const PolicyLimits& limits,
                                                      PolicyHost* host,
                                                      const CompiledPolicy* previous = nullptr,
                                                      LineObserver* lineObserver = nullptr,
                                                      std::vector<WatchedFile>* watched = nullptr);

// Calls tick(ctx) under the budget and cap, then checks that ctx.state is
// still plain data. REQUIRES: policy.context->begin() was called.
Status runTick(CompiledPolicy& policy);

}  // namespace trimtab
