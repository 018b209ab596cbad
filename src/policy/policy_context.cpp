// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_context.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/config_node.h"
#include "policy/lua_sandbox.h"
#include "policy/plain_data.h"
#include "policy/policy_context_args.h"

namespace trimtab {
namespace {

// A policy reading many regexes must not grow the cache without bound.
constexpr std::size_t kMaxCachedRegexes = 256;

int readOnlyNewIndex(lua_State* L) {
  return luaL_error(L, "%s is read-only (tried to set '%s')", lua_tostring(L, lua_upvalueindex(1)),
                    luaL_tolstring(L, 2, nullptr));
}

// next() over the table behind a proxy, held as an upvalue: handing the
// table itself to the caller as pairs' state would let a policy write to it.
int hiddenNext(lua_State* L) {
  lua_settop(L, 2);
  lua_pushvalue(L, 2);
  if (lua_next(L, lua_upvalueindex(1))) return 2;
  lua_pushnil(L);
  return 1;
}

int readOnlyPairs(lua_State* L) {
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushcclosure(L, hiddenNext, 1);
  lua_pushnil(L);
  lua_pushnil(L);
  return 3;
}

int readOnlyLength(lua_State* L) {
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, lua_upvalueindex(1))));
  return 1;
}

// ctx.params.x for an undeclared x is a typo far more often than a wish for
// nil: say so, with the closest declared name.
int paramsLookup(lua_State* L) {
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL || lua_type(L, 2) != LUA_TSTRING) return 1;
  lua_pop(L, 1);
  auto* context = static_cast<PolicyContext*>(lua_touserdata(L, lua_upvalueindex(2)));
  {
    std::vector<std::string> names;
    lua_pushnil(L);
    while (lua_next(L, lua_upvalueindex(1))) {
      if (lua_type(L, -2) == LUA_TSTRING) names.emplace_back(lua_tostring(L, -2));
      lua_pop(L, 1);
    }
    std::string suggestion = closestMatch(lua_tostring(L, 2), names);
    context->scratch() = suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)";
  }
  return luaL_error(L, "ctx.params.%s: no such parameter; declare it with a default in the policy's params%s",
                    lua_tostring(L, 2), context->scratch().c_str());
}

// setmetatable(proxy, {__index = target, ...}) for the table at `target`.
void pushReadOnlyMetatable(lua_State* L, int target, const char* name, lua_CFunction index,
                           PolicyContext* context) {
  lua_createtable(L, 0, 5);
  if (index) {
    lua_pushvalue(L, target);
    lua_pushlightuserdata(L, context);
    lua_pushcclosure(L, index, 2);
  } else {
    lua_pushvalue(L, target);
  }
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, readOnlyNewIndex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, target);
  lua_pushcclosure(L, readOnlyPairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushvalue(L, target);
  lua_pushcclosure(L, readOnlyLength, 1);
  lua_setfield(L, -2, "__len");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
}

// Integer knobs read as Lua integers, so string.format("%d", knob.value) works.
void pushKnobNumber(lua_State* L, bool integer, double v) {
  if (integer && std::isfinite(v) && std::abs(v) < kMaxWholeAsInteger && v == std::floor(v)) {
    lua_pushinteger(L, static_cast<lua_Integer>(v));
  } else {
    lua_pushnumber(L, v);
  }
}

void setNumberField(lua_State* L, const char* key, bool integer, double v) {
  pushKnobNumber(L, integer, v);
  lua_setfield(L, -2, key);
}

void setBoolField(lua_State* L, const char* key, bool v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

int ctxKnob(lua_State* L) {
  PolicyContext& c = activeContext(L, "knob");
  const char* name = checkName(L, 1, "knob");
  const KnobState* knob = c.host()->knob(name);
  if (!knob) {
    c.noteUnknownKnob(name);
    lua_pushnil(L);
    return 1;
  }
  c.pushKnob(L, *knob);
  return 1;
}

// The fields of a knob table that change while the knob lives: refreshed at
// the first ctx.knob() of each tick.
void setKnobStateFields(lua_State* L, const PolicyContext& c, const KnobState& knob) {
  c.pushKeys(L);  // [knob, keys]
  lua_rawgeti(L, -1, PolicyContext::kKeyValue);
  pushKnobNumber(L, knob.spec.integer, knob.current);
  lua_rawset(L, -4);
  lua_rawgeti(L, -1, PolicyContext::kKeyPending);
  lua_pushboolean(L, knob.pending);
  lua_rawset(L, -4);
  lua_rawgeti(L, -1, PolicyContext::kKeyLastChange);
  if (knob.lastChange >= 0) {
    lua_pushnumber(L, knob.lastChange);
  } else {
    lua_pushnil(L);
  }
  lua_rawset(L, -4);
  lua_pop(L, 1);
}

// The fields from the knob's spec (the config): set when the table is made,
// and again only if the spec changed (a reload).
void setKnobSpecFields(lua_State* L, const KnobSpec& spec) {
  lua_pushstring(L, spec.name.c_str());
  lua_setfield(L, -2, "name");
  setNumberField(L, "min", spec.integer, spec.min);
  setNumberField(L, "max", spec.integer, spec.max);
  setNumberField(L, "baseline", spec.integer, spec.baseline);
  setNumberField(L, "step", spec.integer, spec.maxStep);
  setNumberField(L, "deadband", false, spec.deadband);
  setNumberField(L, "cooldown", false, spec.cooldown);
  setBoolField(L, "integer", spec.integer);
  setBoolField(L, "dry_run", spec.dryRun);
  lua_pushstring(L, spec.unit.c_str());
  lua_setfield(L, -2, "unit");
}

bool sameSpecFields(const KnobSpec& a, const KnobSpec& b) {
  return a.min == b.min && a.max == b.max && a.baseline == b.baseline && a.maxStep == b.maxStep &&
         a.deadband == b.deadband && a.cooldown == b.cooldown && a.integer == b.integer &&
         a.dryRun == b.dryRun && a.unit == b.unit;
}

void describeUnknownKnob(PolicyContext& c, const char* knob) {
  std::vector<std::string> names = c.host()->knobNames();
  std::string suggestion = closestMatch(knob, names);
  c.scratch() = std::string("ctx.propose: unknown knob '") + knob + "'";
  if (!suggestion.empty()) {
    c.scratch() += " (did you mean '" + suggestion + "'?)";
  } else if (!names.empty()) {
    c.scratch() += " (knobs:";
    for (const auto& n : names) c.scratch() += " " + n;
    c.scratch() += ")";
  }
}

int ctxPropose(lua_State* L) {
  PolicyContext& c = activeContext(L, "propose");
  const char* knob = checkName(L, 1, "knob");
  if (!c.host()->knob(knob)) {
    describeUnknownKnob(c, knob);
    return luaL_error(L, "%s", c.scratch().c_str());
  }
  if (lua_type(L, 2) != LUA_TNUMBER) {
    return luaL_error(L, "ctx.propose: the value for knob '%s' must be a number, got %s", knob,
                      luaL_typename(L, 2));
  }
  double value = lua_tonumber(L, 2);
  std::size_t reasonLength = 0;
  const char* reason = "";
  if (!lua_isnoneornil(L, 3)) {
    if (lua_type(L, 3) != LUA_TSTRING) {
      return luaL_error(L, "ctx.propose: the reason must be a string, got %s", luaL_typename(L, 3));
    }
    reason = lua_tolstring(L, 3, &reasonLength);
  }
  if (c.proposals().size() >= kMaxProposalsPerTick) {
    return luaL_error(L, "ctx.propose: more than %d proposals in one tick",
                      static_cast<int>(kMaxProposalsPerTick));
  }
  Proposal& p = c.proposals().emplace_back();
  p.policy = c.name();
  p.priority = c.priority();
  p.order = c.order();
  p.knob = knob;
  p.value = value;
  p.reason.assign(reason, std::min(reasonLength, kMaxReasonBytes));
  p.location = LuaSandbox::callerLocation(L, 1);
  p.inputs = c.inputs();
  return 0;
}

// tostring() of every argument, joined by spaces, as one log line.
void logArguments(lua_State* L, PolicyContext& c) {
  int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, ' ');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  std::size_t length = 0;
  const char* text = lua_tolstring(L, -1, &length);
  c.addLog(text, length);
}

int ctxLog(lua_State* L) {
  logArguments(L, activeContext(L, "log"));
  return 0;
}

// print() outside a tick (at load) goes nowhere: there is no tick to log to.
int ctxPrint(lua_State* L) {
  auto* c = static_cast<PolicyContext*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (c->active()) logArguments(L, *c);
  return 0;
}

const luaL_Reg kCoreFunctions[] = {
    {"knob", ctxKnob},
    {"propose", ctxPropose},
    {"log", ctxLog},
    {nullptr, nullptr},
};

// ctx.predict: a read-only table of its own, so ctx.predict:eta(...) works too.
void installPredict(lua_State* L, int ctxInner, PolicyContext* context) {
  lua_newtable(L);
  const int inner = lua_gettop(L);
  lua_newtable(L);
  const int proxy = inner + 1;
  pushReadOnlyMetatable(L, inner, "ctx.predict", nullptr, context);
  lua_setmetatable(L, proxy);
  lua_pushvalue(L, inner);
  lua_pushlightuserdata(L, context);
  lua_pushvalue(L, proxy);
  setPredictFunctions(L);
  lua_pop(L, 1);
  lua_setfield(L, ctxInner, "predict");
  lua_pop(L, 1);
}

}  // namespace

PolicyContext::PolicyContext(PolicyHost* host, int priority, int order)
    : host_(host), priority_(priority), order_(order) {}

PolicyContext& activeContext(lua_State* L, const char* function) {
  auto* c = static_cast<PolicyContext*>(lua_touserdata(L, lua_upvalueindex(1)));
  if (!c->active() || !c->host()) luaL_error(L, "ctx.%s can only be called while tick() runs", function);
  if (lua_rawequal(L, 1, lua_upvalueindex(2))) lua_remove(L, 1);
  return *c;
}

void PolicyContext::install(lua_State* L, int paramsIndex, int stateIndex) {
  paramsIndex = lua_absindex(L, paramsIndex);
  stateIndex = lua_absindex(L, stateIndex);
  static constexpr const char* kKeyNames[] = {nullptr, "avg",   "min",   "max",     "sum",         "first", "last",
                                              "stddev", "count", "value", "pending", "last_change", "now"};
  static_assert(sizeof kKeyNames / sizeof kKeyNames[0] == kKeyEnd);
  lua_createtable(L, kKeyEnd, 0);
  for (int k = 1; k < kKeyEnd; ++k) {
    lua_pushstring(L, kKeyNames[k]);
    lua_rawseti(L, -2, k);
  }
  keysRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_newtable(L);
  const int inner = lua_gettop(L);
  lua_newtable(L);
  const int proxy = inner + 1;
  pushReadOnlyMetatable(L, inner, "ctx (keep your data in ctx.state)", nullptr, this);
  lua_setmetatable(L, proxy);

  lua_pushvalue(L, inner);
  lua_pushlightuserdata(L, this);
  lua_pushvalue(L, proxy);
  luaL_setfuncs(L, kCoreFunctions, 2);
  lua_pushlightuserdata(L, this);
  lua_pushvalue(L, proxy);
  setMetricFunctions(L);
  lua_pop(L, 1);
  if (host_ && host_->predict()) installPredict(L, inner, this);

  // ctx.params reads the values through a table __index (the VM's fast
  // path); only a miss reaches paramsLookup, via the values' own metatable.
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, paramsIndex);
  lua_pushlightuserdata(L, this);
  lua_pushcclosure(L, paramsLookup, 2);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, paramsIndex);
  lua_newtable(L);
  pushReadOnlyMetatable(L, paramsIndex, "ctx.params", nullptr, this);
  lua_setmetatable(L, -2);
  lua_setfield(L, inner, "params");
  saveTableParams(L, paramsIndex);
  lua_pushvalue(L, stateIndex);
  lua_setfield(L, inner, "state");
  lua_pushstring(L, name_.c_str());
  lua_setfield(L, inner, "name");
  lua_pushnumber(L, interval_);
  lua_setfield(L, inner, "interval");
  lua_pushnumber(L, 0);
  lua_setfield(L, inner, "now");

  lua_pushlightuserdata(L, this);
  lua_pushvalue(L, proxy);
  lua_pushcclosure(L, ctxPrint, 2);
  lua_setglobal(L, "print");

  lua_pushvalue(L, stateIndex);
  stateRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, inner);
  innerRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, proxy);
  ctxRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_settop(L, inner - 1);
}

void PolicyContext::saveTableParams(lua_State* L, int paramsIndex) {
  lua_newtable(L);
  bool any = false;
  lua_pushnil(L);
  while (lua_next(L, paramsIndex)) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, -4);
      any = true;
    } else {
      lua_pop(L, 1);
    }
  }
  if (!any) {
    lua_pop(L, 1);
    return;
  }
  tableParamsRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, paramsIndex);
  paramsRef_ = luaL_ref(L, LUA_REGISTRYINDEX);
}

namespace {

// A copy of the plain-data table at `index` (params passed checkPlainData:
// no cycles, at most kMaxPlainDepth deep).
void pushTableCopy(lua_State* L, int index, int depth) {
  index = lua_absindex(L, index);
  luaL_checkstack(L, 4, "ctx.params");
  lua_newtable(L);
  if (depth >= kMaxPlainDepth) return;
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (lua_type(L, -1) == LUA_TTABLE) {
      pushTableCopy(L, -1, depth + 1);
      lua_replace(L, -2);
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, -4);
  }
}

}  // namespace

void PolicyContext::pushForTick(lua_State* L) const {
  if (tableParamsRef_ != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, paramsRef_);
    lua_rawgeti(L, LUA_REGISTRYINDEX, tableParamsRef_);
    lua_pushnil(L);
    while (lua_next(L, -2)) {  // [params, tables, name, configured]
      lua_pushvalue(L, -2);
      pushTableCopy(L, -2, 1);
      lua_rawset(L, -6);  // params[name] = a copy
      lua_pop(L, 1);
    }
    lua_pop(L, 2);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, innerRef_);
  pushKeys(L);
  lua_rawgeti(L, -1, kKeyNow);
  lua_pushnumber(L, now_);
  lua_rawset(L, -4);
  lua_pop(L, 2);
  lua_rawgeti(L, LUA_REGISTRYINDEX, ctxRef_);
}

void PolicyContext::pushState(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, stateRef_); }

void PolicyContext::begin(Seconds now) {
  now_ = now;
  readCount_ = 0;
  foldedInputs_ = 0;
  foldedStale_ = false;
  foldedMissing_ = false;
  inputs_.clear();
  inputsCurrent_ = true;
  proposals_.clear();
  logs_.clear();
  droppedLogs_ = 0;
  unknownKnobs_.clear();
  active_ = true;
}

void PolicyContext::end() {
  active_ = false;
  if (droppedLogs_ > 0) {
    logs_.push_back(name_ + ": " + std::to_string(droppedLogs_) + " more log lines dropped (limit " +
                    std::to_string(kMaxLogLinesPerTick) + " per tick)");
  }
}

PolicyContext::RecordedRead* PolicyContext::nextRead(const ReadOutcome& outcome) {
  inputsCurrent_ = false;
  if (readCount_ >= kMaxRecordedInputs) {  // past the bound: only counted, in one summary entry
    ++foldedInputs_;
    foldedStale_ = foldedStale_ || outcome.stale;
    foldedMissing_ = foldedMissing_ || outcome.missing;
    return nullptr;
  }
  if (readCount_ == reads_.size()) reads_.emplace_back();
  RecordedRead& r = reads_[readCount_++];
  r.value = outcome.missing ? NAN : outcome.value;
  r.stale = outcome.stale;
  r.missing = outcome.missing;
  return &r;
}

void PolicyContext::recordRead(const char* function, const MetricQuery& query, const ReadOutcome& outcome) {
  RecordedRead* r = nextRead(outcome);
  if (!r) return;
  r->function = function;
  r->query = query;  // reuses the buffers of an earlier tick's read
}

void PolicyContext::recordInput(const std::string& what, const ReadOutcome& outcome, const std::string& metric) {
  RecordedRead* r = nextRead(outcome);
  if (!r) return;
  r->function = nullptr;
  r->what = what;
  r->metric = metric;
}

void PolicyContext::noteUnknownKnob(std::string_view name) {
  if (unknownKnobs_.size() >= kMaxReportedMissing) return;
  for (const auto& known : unknownKnobs_)
    if (known == name) return;
  unknownKnobs_.emplace_back(name);
}

void PolicyContext::missingReads(std::vector<MissingRead>& out) const {
  auto optional = [this](const std::string& name) {
    return std::find(optionalNames_.begin(), optionalNames_.end(), name) != optionalNames_.end();
  };
  for (const auto& knob : unknownKnobs_) {
    if (out.size() >= kMaxReportedMissing) return;
    if (!optional(knob)) out.push_back(MissingRead{"", "knob(" + knob + ")", knob});
  }
  for (std::size_t i = 0; i < readCount_ && out.size() < kMaxReportedMissing; ++i) {
    const RecordedRead& r = reads_[i];
    if (!r.missing) continue;
    const std::string& metric = r.function ? r.query.metric : r.metric;
    if (optional(metric)) continue;
    MissingRead m{metric, r.function ? describeRead(r.query, r.function) : r.what, {}};
    bool seen = false;
    for (const MissingRead& o : out) seen = seen || o.what == m.what;
    if (!seen) out.push_back(std::move(m));
  }
}

const std::vector<InputRead>& PolicyContext::inputs() {
  if (inputsCurrent_) return inputs_;
  inputs_.clear();
  for (std::size_t i = 0; i < readCount_; ++i) {
    const RecordedRead& r = reads_[i];
    inputs_.push_back(InputRead{r.function ? describeRead(r.query, r.function) : r.what, r.value, r.stale,
                                r.missing});
  }
  if (foldedInputs_ > 0) {
    inputs_.push_back(InputRead{"(" + std::to_string(foldedInputs_) + " more reads)", NAN, foldedStale_,
                                foldedMissing_});
  }
  inputsCurrent_ = true;
  return inputs_;
}

void PolicyContext::pushKnob(lua_State* L, const KnobState& knob) {
  CachedKnob* cached = nullptr;
  for (CachedKnob& k : knobs_) {
    if (k.name == knob.spec.name) {
      cached = &k;
      break;
    }
  }
  if (!cached) {
    cached = &knobs_.emplace_back();
    cached->name = knob.spec.name;
    lua_createtable(L, 0, 14);
    const int inner = lua_gettop(L);
    lua_newtable(L);
    pushReadOnlyMetatable(L, inner, "the table of ctx.knob()", nullptr, this);
    lua_setmetatable(L, -2);
    cached->proxyRef = luaL_ref(L, LUA_REGISTRYINDEX);
    cached->innerRef = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  // The table's fields change only when the knob did: most calls write nothing.
  const bool specChanged = !cached->filled || !sameSpecFields(cached->shown.spec, knob.spec);
  if (specChanged || cached->shown.current != knob.current || cached->shown.pending != knob.pending ||
      cached->shown.lastChange != knob.lastChange) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, cached->innerRef);
    if (specChanged) setKnobSpecFields(L, knob.spec);
    setKnobStateFields(L, *this, knob);
    lua_pop(L, 1);
    cached->shown = knob;
    cached->filled = true;
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, cached->proxyRef);
}

void PolicyContext::retain(lua_State* L, SeriesStore& store, const std::string& metric, Seconds window) {
  if (retainedIn_ != &store) {
    retained_.clear();
    retainedIn_ = &store;
  }
  for (Retained& r : retained_) {
    if (r.metric != metric) continue;
    if (window <= r.window) return;
    store.retain(metric, window);
    r.window = window;
    return;
  }
  if (!store.retains(metric) && store.retainedFamilies() >= kMaxRetainedFamilies) {
    luaL_error(L, "ctx: more than %d metric names read in this run; is a name built from a changing value?",
               static_cast<int>(kMaxRetainedFamilies));
  }
  store.retain(metric, window);
  if (retained_.size() < kMaxRetainedCache) retained_.push_back(Retained{metric, window});
}

const Seconds* PolicyContext::cachedDuration(std::string_view text) const {
  for (const CachedDuration& d : durations_) {
    if (!d.text.empty() && d.text == text) return &d.seconds;
  }
  return nullptr;
}

void PolicyContext::cacheDuration(std::string_view text, Seconds seconds) {
  CachedDuration& slot = durations_[nextDuration_];
  nextDuration_ = (nextDuration_ + 1) % durations_.size();
  slot.text.assign(text);
  slot.seconds = seconds;
}

void PolicyContext::addLog(const char* text, std::size_t length) {
  if (logs_.size() >= kMaxLogLinesPerTick) {
    ++droppedLogs_;
    return;
  }
  std::string& line = logs_.emplace_back(name_);
  line.append(": ");
  if (length > kMaxLogLineBytes) {
    line.append(text, kMaxLogLineBytes).append("...");
  } else {
    line.append(text, length);
  }
}

bool PolicyContext::makeMatcher(const char* label, LabelMatcher::Op op, const char* value,
                                LabelMatcher& out) {
  out.name = label;
  out.op = op;
  out.value = value;
  out.compiled.reset();
  if (op == LabelMatcher::Op::Equal || op == LabelMatcher::Op::NotEqual) return true;
  auto it = regexCache_.find(out.value);
  if (it == regexCache_.end()) {
    if (regexCache_.size() >= kMaxCachedRegexes) regexCache_.clear();
    std::optional<LabelMatcher> compiled = makeLabelMatcher(label, op, value, &scratch_);
    if (!compiled) return false;
    it = regexCache_.emplace(out.value, std::move(*compiled)).first;
  }
  out.compiled = it->second.compiled;
  return true;
}

}  // namespace trimtab
