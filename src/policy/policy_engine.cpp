// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "controller/series_store.h"
#include "policy/compiled_policy.h"
#include "policy/file_stamp.h"
#include "policy/plain_data.h"

namespace trimtab {
namespace {

void retainInputs(const CompiledPolicy& policy, SeriesStore& store) {
  for (const PolicyInput& input : policy.inputs) store.retain(input.metric, input.window);
}

const std::string kNoFile;

struct StateCopy {
  lua_State* from;
  int ref = LUA_NOREF;
};

int copyStateInto(lua_State* L) {
  StateCopy& copy = *static_cast<StateCopy*>(lua_touserdata(L, 1));
  copyPlainData(copy.from, -1, L);
  copy.ref = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

}  // namespace

struct PolicyEngine::LoadedPolicy {
  PolicySpec spec;
  std::unique_ptr<CompiledPolicy> compiled;
  FileStamp stamp;  // the policy file's; its library paths are compiled->library->watched(),
                    // live: require at tick time adds to them
  // What the last failed reload looked at (its modules and where it looked
  // for them): a change there is worth another try.
  std::vector<WatchedFile> failedWatch;
  int consecutiveErrors = 0;
  bool quarantined = false;
  std::string lastError;
};

PolicyEngine::PolicyEngine(PolicyLimits limits, PolicyHost& host) : limits_(limits), host_(host) {}

PolicyEngine::~PolicyEngine() = default;

PolicyEngine::LoadedPolicy* PolicyEngine::find(const std::string& name) const {
  for (const auto& p : policies_) {
    if (p->compiled->name == name) return p.get();
  }
  return nullptr;
}

Status PolicyEngine::add(const PolicySpec& spec) {
  FileStamp stamp = FileStamp::of(spec.file);
  Result<std::unique_ptr<CompiledPolicy>> compiled = compilePolicy(spec, limits_, &host_, nullptr, lineObserver_);
  if (!compiled.ok()) return compiled.error();
  const std::string& name = (*compiled)->name;
  if (const LoadedPolicy* other = find(name)) {
    return makeError(spec.file + ": policy name '" + name + "' is already used by " + other->spec.file);
  }
  retainInputs(**compiled, host_.store());
  auto loaded = std::make_unique<LoadedPolicy>();
  loaded->spec = spec;
  loaded->compiled = std::move(*compiled);
  loaded->stamp = stamp;
  policies_.push_back(std::move(loaded));
  names_.push_back(policies_.back()->compiled->name);
  return Status::success();
}

Status PolicyEngine::check(const PolicySpec& spec, const PolicyLimits& limits, std::string* name) {
  Result<std::unique_ptr<CompiledPolicy>> compiled = compilePolicy(spec, limits, nullptr);
  if (!compiled.ok()) return compiled.error();
  if (name) *name = (*compiled)->name;
  return Status::success();
}

const std::vector<std::string>& PolicyEngine::names() const { return names_; }

Seconds PolicyEngine::interval(const std::string& name) const {
  const LoadedPolicy* p = find(name);
  return p ? p->compiled->interval : 0;
}

const std::string& PolicyEngine::file(const std::string& name) const {
  const LoadedPolicy* p = find(name);
  return p ? p->spec.file : kNoFile;
}

PolicyTickResult PolicyEngine::tick(const std::string& name, Seconds now) {
  PolicyTickResult result;
  LoadedPolicy* p = find(name);
  if (!p) {
    result.status = makeError("unknown policy '" + name + "'");
    return result;
  }
  if (p->quarantined) {
    result.status = makeError("policy '" + name + "' is quarantined after " +
                              std::to_string(p->consecutiveErrors) + " consecutive errors (a reload lifts it); last: " +
                              p->lastError);
    return result;
  }
  const auto started = timed_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
  PolicyContext& context = *p->compiled->context;
  context.begin(now);
  Status ran = runTick(*p->compiled);
  context.end();
  if (timed_) result.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.logs = std::move(context.logs());
  context.missingReads(result.missing);
  if (ran.ok()) {
    p->consecutiveErrors = 0;
    result.proposals = std::move(context.proposals());
    return result;
  }
  ++p->consecutiveErrors;
  p->lastError = ran.error().message;
  if (limits_.quarantineAfterErrors > 0 && p->consecutiveErrors >= limits_.quarantineAfterErrors) {
    p->quarantined = true;
    result.status = makeError(p->lastError + " (policy '" + name + "' quarantined after " +
                              std::to_string(p->consecutiveErrors) + " consecutive errors)");
    return result;
  }
  result.status = ran;
  return result;
}

Status PolicyEngine::reload(const std::string& name, std::string* renamed) {
  LoadedPolicy* p = find(name);
  if (!p) return makeError("unknown policy '" + name + "'");
  // Stamped before compiling: a change during it triggers another reload.
  // A failed reload waits for the next change of a file it looked at.
  p->stamp = FileStamp::of(p->spec.file);
  p->compiled->library->restamp();
  std::vector<WatchedFile> looked;
  Result<std::unique_ptr<CompiledPolicy>> compiled =
      compilePolicy(p->spec, limits_, &host_, p->compiled.get(), lineObserver_, &looked);
  if (!compiled.ok()) {
    ++reloadFailures_;
    p->failedWatch = std::move(looked);
    return compiled.error();
  }
  const std::string& newName = (*compiled)->name;
  if (const LoadedPolicy* other = find(newName); other && other != p) {
    ++reloadFailures_;
    p->failedWatch = std::move(looked);
    return makeError(p->spec.file + ": policy name '" + newName + "' is already used by " + other->spec.file);
  }
  retainInputs(**compiled, host_.store());
  p->failedWatch.clear();
  p->compiled = std::move(*compiled);
  for (std::size_t i = 0; i < policies_.size(); ++i) names_[i] = policies_[i]->compiled->name;
  p->quarantined = false;
  p->consecutiveErrors = 0;
  p->lastError.clear();
  if (renamed) *renamed = p->compiled->name;
  return Status::success();
}

std::vector<std::string> PolicyEngine::changedPolicies() const {
  std::vector<std::string> out;
  for (const auto& p : policies_) {
    if (!(FileStamp::of(p->spec.file) == p->stamp) || anyChanged(p->compiled->library->watched()) ||
        anyChanged(p->failedWatch)) {
      out.push_back(p->compiled->name);
    }
  }
  return out;
}

Result<int> PolicyEngine::copyState(const std::string& name, LuaSandbox& into) const {
  const LoadedPolicy* p = find(name);
  if (!p) return makeError("unknown policy '" + name + "'");
  lua_State* from = p->compiled->sandbox->state();
  const int top = lua_gettop(from);
  if (!lua_checkstack(from, 1)) return makeError("policy '" + name + "': Lua stack exhausted");
  p->compiled->context->pushState(from);
  StateCopy copy{from};
  Status ran = into.run(copyStateInto, &copy);
  lua_settop(from, top);  // also after a raise in `into` midway through the copy
  if (!ran.ok()) return ran.error();
  return copy.ref;
}

bool PolicyEngine::quarantined(const std::string& name) const {
  const LoadedPolicy* p = find(name);
  return p && p->quarantined;
}

std::size_t PolicyEngine::quarantinedCount() const {
  return static_cast<std::size_t>(
      std::count_if(policies_.begin(), policies_.end(), [](const auto& p) { return p->quarantined; }));
}

std::uint64_t PolicyEngine::reloadFailures() const { return reloadFailures_; }

}  // namespace trimtab
