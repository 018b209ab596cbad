// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_engine.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <system_error>

#include "controller/series_store.h"
#include "policy/compiled_policy.h"
#include "policy/plain_data.h"

namespace trimtab {
namespace {

// What a file looked like when it was (re)loaded; any difference means reload.
struct FileStamp {
  bool exists = false;
  std::filesystem::file_time_type modified{};
  std::uintmax_t size = 0;
  bool operator==(const FileStamp&) const = default;
};

FileStamp stampOf(const std::string& file) {
  FileStamp stamp;
  std::error_code ec;
  stamp.modified = std::filesystem::last_write_time(file, ec);
  if (ec) return FileStamp{};
  stamp.size = std::filesystem::file_size(file, ec);
  if (ec) return FileStamp{};
  stamp.exists = true;
  return stamp;
}

// The library modules a policy loaded (require), each as it was when loaded.
using LibraryStamps = std::vector<std::pair<std::string, FileStamp>>;

// Stamps of `files`, taking the one in `known` for a file it has (stamped
// before a compile: a change during the compile then shows as a change).
LibraryStamps stampsOf(const std::vector<std::string>& files, const LibraryStamps& known = {}) {
  LibraryStamps out;
  out.reserve(files.size());
  for (const std::string& file : files) {
    auto it = std::find_if(known.begin(), known.end(), [&](const auto& k) { return k.first == file; });
    out.emplace_back(file, it != known.end() ? it->second : stampOf(file));
  }
  return out;
}

bool changed(const LibraryStamps& stamps) {
  return std::any_of(stamps.begin(), stamps.end(), [](const auto& s) { return !(stampOf(s.first) == s.second); });
}

std::vector<std::string> filesOf(const LibraryStamps& stamps) {
  std::vector<std::string> out;
  for (const auto& s : stamps) out.push_back(s.first);
  return out;
}

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
  FileStamp stamp;
  LibraryStamps libraryStamps;
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
  FileStamp stamp = stampOf(spec.file);
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
  loaded->libraryStamps = stampsOf(loaded->compiled->library->files());
  policies_.push_back(std::move(loaded));
  names_.push_back(policies_.back()->compiled->name);
  return Status::success();
}

Status PolicyEngine::check(const PolicySpec& spec, const PolicyLimits& limits) {
  Result<std::unique_ptr<CompiledPolicy>> compiled = compilePolicy(spec, limits, nullptr);
  if (!compiled.ok()) return compiled.error();
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
  auto started = std::chrono::steady_clock::now();
  PolicyContext& context = *p->compiled->context;
  context.begin(now);
  Status ran = runTick(*p->compiled);
  context.end();
  result.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  result.logs = std::move(context.logs());
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

Status PolicyEngine::reload(const std::string& name) {
  LoadedPolicy* p = find(name);
  if (!p) return makeError("unknown policy '" + name + "'");
  // Stamped before compiling: a change during it triggers another reload.
  // A failed reload waits for the next change of the files it knows.
  p->stamp = stampOf(p->spec.file);
  p->libraryStamps = stampsOf(filesOf(p->libraryStamps));
  Result<std::unique_ptr<CompiledPolicy>> compiled = compilePolicy(p->spec, limits_, &host_, p->compiled.get(), lineObserver_);
  if (!compiled.ok()) {
    ++reloadFailures_;
    return compiled.error();
  }
  const std::string& newName = (*compiled)->name;
  if (const LoadedPolicy* other = find(newName); other && other != p) {
    ++reloadFailures_;
    return makeError(p->spec.file + ": policy name '" + newName + "' is already used by " + other->spec.file);
  }
  retainInputs(**compiled, host_.store());
  p->libraryStamps = stampsOf((*compiled)->library->files(), p->libraryStamps);
  p->compiled = std::move(*compiled);
  for (std::size_t i = 0; i < policies_.size(); ++i) names_[i] = policies_[i]->compiled->name;
  p->quarantined = false;
  p->consecutiveErrors = 0;
  p->lastError.clear();
  return Status::success();
}

std::vector<std::string> PolicyEngine::changedPolicies() const {
  std::vector<std::string> out;
  for (const auto& p : policies_) {
    if (!(stampOf(p->spec.file) == p->stamp) || changed(p->libraryStamps)) out.push_back(p->compiled->name);
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
