// SPDX-License-Identifier: Apache-2.0
// Compiling a policy runs Lua (the file's top level, metamethods), so all of
// it happens inside LuaSandbox::run: the checks below keep no C++ object that
// owns memory alive across a Lua call that may raise, and write their
// results into the CompileJob, which outlives the protected call.
#include "policy/compiled_policy.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <variant>

#include "common/config_node.h"
#include "common/units.h"
#include "policy/plain_data.h"

namespace trimtab {
namespace {

constexpr const char* kFields[] = {"name", "description", "interval", "params", "optional", "inputs", "tick"};

struct CompileJob {
  const PolicySpec* spec;
  CompiledPolicy* out;
  const CompiledPolicy* previous;
  std::string error;               // a failed check; the protected call itself succeeds
  std::vector<std::string> words;  // candidates for "did you mean"
  std::vector<std::string> paramProblems;  // every bad config param, reported together
  std::vector<std::string> optionalNames;  // the `optional` params' values
};

bool fail(CompileJob& job, const std::string& message) {
  job.error = job.spec->file + ": " + message;
  return false;
}

std::string typeName(lua_State* L, int index) { return luaL_typename(L, index); }

bool validName(const char* s, std::size_t n) {
  if (n == 0 || n > kMaxPolicyNameLength || !std::isalpha(static_cast<unsigned char>(s[0]))) return false;
  return std::all_of(s, s + n, [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

bool checkFields(lua_State* L, int def, CompileJob& job) {
  job.words.clear();
  lua_pushnil(L);
  while (lua_next(L, def)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      lua_pop(L, 2);
      return fail(job, "the policy table must have named fields only (name = ..., tick = ...)");
    }
    const char* key = lua_tostring(L, -2);
    bool known = std::any_of(std::begin(kFields), std::end(kFields),
                             [key](const char* f) { return std::strcmp(f, key) == 0; });
    if (!known && lua_type(L, -1) == LUA_TFUNCTION) {
      job.words.emplace_back(key);  // a helper function: allowed
    } else if (!known) {
      std::string suggestion = closestMatch(key, {std::begin(kFields), std::end(kFields)});
      fail(job, std::string("unknown field '") + key + "'" +
                    (suggestion.empty()
                         ? std::string(" (fields: name, description, interval, params, optional, inputs, tick)")
                         : " (did you mean '" + suggestion + "'?)"));
      lua_pop(L, 2);
      return false;
    }
    lua_pop(L, 1);
  }
  return true;
}

bool readName(lua_State* L, int def, CompileJob& job) {
  lua_getfield(L, def, "name");
  std::size_t n = 0;
  const char* s = lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &n) : nullptr;
  if (!s || !validName(s, n)) {
    fail(job, "'name' must be a string of letters, digits, '_', '-' or '.' starting with a letter (at most " +
                  std::to_string(kMaxPolicyNameLength) + " characters), got " +
                  (s ? "'" + std::string(s, n) + "'" : typeName(L, -1)));
    lua_pop(L, 1);
    return false;
  }
  job.out->name.assign(s, n);
  lua_pop(L, 1);
  if (const std::string& given = job.spec->name; !given.empty()) {  // the config entry's `name`
    if (!validName(given.data(), given.size()))
      return fail(job, "name '" + given + "' (from the config) must be letters, digits, '_', '-' or '.' starting "
                       "with a letter, at most " + std::to_string(kMaxPolicyNameLength) + " characters");
    job.out->name = given;
  }
  return true;
}

bool readDescription(lua_State* L, int def, CompileJob& job) {
  int type = lua_getfield(L, def, "description");
  bool ok = type == LUA_TNIL || type == LUA_TSTRING;
  if (type == LUA_TSTRING) job.out->description = lua_tostring(L, -1);
  if (!ok) fail(job, "'description' must be a string, got " + typeName(L, -1));
  lua_pop(L, 1);
  return ok;
}

// A duration at `index`: seconds or "5m". NaN with job.error set when bad.
Seconds durationAt(lua_State* L, int index, CompileJob& job, const char* what) {
  int type = lua_type(L, index);
  if (type == LUA_TNUMBER) {
    Seconds v = lua_tonumber(L, index);
    if (v >= 0 && std::isfinite(v)) return v;
    fail(job, std::string(what) + ": expected a positive duration, got " + std::to_string(v));
    return NAN;
  }
  if (type == LUA_TSTRING) {
    Result<Seconds> parsed = parseDuration(lua_tostring(L, index));
    if (parsed.ok()) return *parsed;
    fail(job, std::string(what) + ": " + parsed.error().message);
    return NAN;
  }
  fail(job, std::string(what) + ": expected a duration like \"10s\" or a number of seconds, got " +
                typeName(L, index));
  return NAN;
}

bool readInterval(lua_State* L, int def, CompileJob& job) {
  if (lua_getfield(L, def, "interval") == LUA_TNIL) {
    lua_pop(L, 1);
    return true;
  }
  Seconds v = durationAt(L, -1, job, "interval");
  lua_pop(L, 1);
  if (std::isnan(v)) return false;
  if (v <= 0) return fail(job, "interval: must be positive");
  job.out->ownInterval = v;
  return true;
}

bool readTick(lua_State* L, int def, CompileJob& job) {
  int type = lua_getfield(L, def, "tick");
  lua_pop(L, 1);
  if (type == LUA_TFUNCTION) return true;
  std::string suggestion = closestMatch("tick", job.words);
  return fail(job, "policy '" + job.out->name + "' has no tick(ctx) function" +
                       (suggestion.empty() ? std::string() : " (is '" + suggestion + "' a typo of 'tick'?)"));
}

// Pushes the policy table's field `name` when it is a table and returns its
// index; returns 0 (nothing pushed) when the field is absent, and -1 (nothing
// pushed, the job failed with `expected` and the type found) otherwise.
int pushTableField(lua_State* L, int def, const char* name, CompileJob& job, const std::string& expected) {
  const int type = lua_getfield(L, def, name);
  if (type == LUA_TTABLE) return lua_gettop(L);
  if (type != LUA_TNIL) fail(job, expected + typeName(L, -1));
  lua_pop(L, 1);
  return type == LUA_TNIL ? 0 : -1;
}

bool readInputs(lua_State* L, int def, CompileJob& job) {
  const int inputs =
      pushTableField(L, def, "inputs", job, "'inputs' must be a list like { {metric = \"x\", window = \"5m\"} }, got ");
  if (inputs <= 0) return inputs == 0;
  const lua_Integer count = static_cast<lua_Integer>(lua_rawlen(L, inputs));
  for (lua_Integer i = 1; i <= count; ++i) {
    lua_rawgeti(L, inputs, i);
    PolicyInput& input = job.out->inputs.emplace_back();
    bool ok = true;
    if (lua_type(L, -1) == LUA_TSTRING) {
      input.metric = lua_tostring(L, -1);
    } else if (lua_type(L, -1) == LUA_TTABLE) {
      if (lua_getfield(L, -1, "metric") == LUA_TSTRING) input.metric = lua_tostring(L, -1);
      lua_pop(L, 1);
      if (lua_getfield(L, -1, "window") != LUA_TNIL) {
        input.window = durationAt(L, -1, job, ("inputs[" + std::to_string(i) + "].window").c_str());
        ok = !std::isnan(input.window);
      }
      lua_pop(L, 1);
    }
    if (ok && input.metric.empty()) {
      ok = fail(job, "inputs[" + std::to_string(i) + "]: expected {metric = \"name\", window = \"5m\"}");
    }
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      return false;
    }
  }
  lua_pop(L, 1);
  return true;
}

// Copies the declared defaults into the table at `params`.
bool readParams(lua_State* L, int def, int params, CompileJob& job) {
  const int defaults = pushTableField(L, def, "params", job, "'params' must be a table of defaults, got ");
  if (defaults <= 0) return defaults == 0;
  lua_pushnil(L);
  while (lua_next(L, defaults)) {
    bool ok = lua_type(L, -2) == LUA_TSTRING;
    if (!ok) {
      fail(job, "params: names must be strings");
    } else {
      job.out->paramNames.emplace_back(lua_tostring(L, -2));
      int valueType = lua_type(L, -1);
      if (valueType == LUA_TFUNCTION || valueType == LUA_TUSERDATA || valueType == LUA_TTHREAD) {
        ok = fail(job, "params." + job.out->paramNames.back() + ": a " + typeName(L, -1) +
                           " cannot be a parameter (numbers, strings, booleans, tables)");
      } else if (valueType == LUA_TTABLE) {
        ok = checkPlainData(L, -1, "params", job.error);  // job.error holds the path meanwhile
        job.error = ok ? std::string() : job.spec->file + ": " + job.error;
      }
    }
    if (!ok) {
      lua_pop(L, 3);
      return false;
    }
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, params);
  }
  lua_pop(L, 1);
  std::sort(job.out->paramNames.begin(), job.out->paramNames.end());
  return true;
}

bool failParam(CompileJob& job, const std::string& key, const std::string& message) {
  job.paramProblems.push_back("params." + key + ": " + message);
  return false;
}

// How a config value reads in a message: "the number 120", "a mapping".
std::string describeParam(const ParamValue& value) {
  if (const double* d = std::get_if<double>(&value)) {
    char text[32];
    std::snprintf(text, sizeof text, "%.15g", *d);
    return std::string("the number ") + text;
  }
  if (const bool* b = std::get_if<bool>(&value)) return *b ? "true" : "false";
  if (const std::string* s = std::get_if<std::string>(&value)) return "'" + *s + "'";
  return "a mapping";
}

// The config's value for a param, converted to the type of its default (on
// top of the stack). Holds no owning object, so pushing can raise safely.
bool pushOverride(lua_State* L, const std::string& key, const ParamValue& value, CompileJob& job) {
  int defaultType = lua_type(L, -1);
  if (defaultType == LUA_TNUMBER) {
    double number = NAN;
    if (const double* d = std::get_if<double>(&value)) {
      number = *d;
    } else if (const std::string* s = std::get_if<std::string>(&value)) {
      if (Result<Seconds> duration = parseDuration(*s); duration.ok()) {
        number = *duration;
      } else if (Result<std::uint64_t> size = parseSize(*s); size.ok()) {
        number = static_cast<double>(*size);
      } else {
        return failParam(job, key, "expected a number, a duration like 50ms or a size like 2GiB, got '" + *s + "'");
      }
    } else {
      return failParam(job, key, std::holds_alternative<bool>(value) ? "expected a number, got a boolean"
                                                                     : "expected a number, got a mapping");
    }
    if (lua_isinteger(L, -1) && number == std::floor(number) && std::abs(number) < kMaxWholeAsInteger) {
      lua_pushinteger(L, static_cast<lua_Integer>(number));
    } else {
      lua_pushnumber(L, number);
    }
    return true;
  }
  if (defaultType == LUA_TBOOLEAN) {
    const bool* b = std::get_if<bool>(&value);
    if (!b) return failParam(job, key, "expected true or false, got " + describeParam(value));
    lua_pushboolean(L, *b);
    return true;
  }
  if (defaultType == LUA_TSTRING) {
    const std::string* s = std::get_if<std::string>(&value);
    if (!s) {
      const bool number = std::holds_alternative<double>(value);
      return failParam(job, key, "expected a string, got " + describeParam(value) +
                                     (number ? " (quote it to pass it as text)" : ""));
    }
    lua_pushlstring(L, s->data(), s->size());
    return true;
  }
  if (defaultType == LUA_TTABLE) {
    const ParamMap* map = std::get_if<ParamMap>(&value);
    if (!map)
      return failParam(job, key, "expected a mapping of names to values (the default is a table), got " +
                                     describeParam(value));
    lua_createtable(L, 0, static_cast<int>(map->size()));
    for (const auto& [name, text] : *map) {
      lua_pushlstring(L, text.data(), text.size());
      lua_setfield(L, -2, name.c_str());
    }
    return true;
  }
  return failParam(job, key, std::string("a ") + lua_typename(L, defaultType) + " parameter cannot be set from the config");
}

// Every bad param is reported, not only the first: one `check` run shows them all.
bool applyOverrides(lua_State* L, int params, CompileJob& job) {
  for (const auto& [key, value] : job.spec->params) {
    lua_pushlstring(L, key.data(), key.size());
    if (lua_rawget(L, params) == LUA_TNIL) {
      lua_pop(L, 1);
      std::string suggestion = closestMatch(key, job.out->paramNames);
      std::string known = job.out->paramNames.empty() ? " (this policy declares no params)" : " (params:";
      for (const auto& name : job.out->paramNames) known += " " + name;
      if (!job.out->paramNames.empty()) known += ")";
      failParam(job, key, "unknown parameter of policy '" + job.out->name + "'" +
                              (suggestion.empty() ? known : " (did you mean '" + suggestion + "'?)"));
      continue;
    }
    bool ok = pushOverride(L, key, value, job);
    if (ok) {
      lua_pushlstring(L, key.data(), key.size());
      lua_insert(L, -2);
      lua_rawset(L, params);
    }
    lua_pop(L, 1);
  }
  if (job.paramProblems.empty()) return true;
  std::string all;
  for (const auto& problem : job.paramProblems) all += (all.empty() ? "" : "; ") + problem;
  return fail(job, all);
}

// `optional`: the params (by name) holding a metric or knob name the policy
// works without. Their values, after the config's overrides, go to the
// context, which then does not report reads of them that find nothing.
bool readOptional(lua_State* L, int def, int params, CompileJob& job) {
  const int list =
      pushTableField(L, def, "optional", job, "'optional' must be a list of param names like { \"psi_metric\" }, got ");
  if (list <= 0) return list == 0;
  const lua_Integer count = static_cast<lua_Integer>(lua_rawlen(L, list));
  // A map ({psi_metric = true}) would walk as an empty list: refused.
  lua_pushnil(L);
  while (lua_next(L, list)) {
    const bool inList = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 && lua_tointeger(L, -2) <= count;
    lua_pop(L, 1);
    if (!inList) {
      lua_pop(L, 2);
      return fail(job, "'optional' must be a list of param names like { \"psi_metric\" }, not a table with "
                       "other keys");
    }
  }
  for (lua_Integer i = 1; i <= count; ++i) {
    // Raw reads allocate nothing; C++ strings are built only to fail or into job.
    if (lua_rawgeti(L, list, i) != LUA_TSTRING) {
      fail(job, "optional[" + std::to_string(i) + "]: expected the name of a param, got " + typeName(L, -1));
      lua_pop(L, 2);
      return false;
    }
    lua_pushvalue(L, -1);
    const int valueType = lua_rawget(L, params);
    if (valueType != LUA_TSTRING) {
      const std::string param = lua_tostring(L, -2);
      std::string suggestion = closestMatch(param, job.out->paramNames);
      fail(job, "optional[" + std::to_string(i) + "]: " +
                    (valueType == LUA_TNIL
                         ? "'" + param + "' is not a param of policy '" + job.out->name + "'" +
                               (suggestion.empty() ? std::string() : " (did you mean '" + suggestion + "'?)")
                         : "params." + param + " is a " + typeName(L, -1) +
                               "; optional lists params that hold a metric or knob name (a string)"));
      lua_pop(L, 3);
      return false;
    }
    std::size_t n = 0;
    const char* value = lua_tolstring(L, -1, &n);
    if (n > 0) job.optionalNames.emplace_back(value, n);
    lua_pop(L, 2);
  }
  lua_pop(L, 1);
  job.out->context->setOptionalNames(std::move(job.optionalNames));
  return true;
}

void pushInitialState(lua_State* L, CompileJob& job) {
  const CompiledPolicy* previous = job.previous;
  if (!previous || previous->name != job.out->name) {
    lua_newtable(L);
    return;
  }
  lua_State* from = previous->sandbox->state();
  if (!lua_checkstack(from, 2)) {
    lua_newtable(L);
    return;
  }
  previous->context->pushState(from);
  copyPlainData(from, -1, L);
  lua_pop(from, 1);
}

int compileChunk(lua_State* L) {
  CompileJob& job = *static_cast<CompileJob*>(lua_touserdata(L, 1));
  job.out->library->install(L);
  if (luaL_loadfilex(L, job.spec->file.c_str(), "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TTABLE) {
    fail(job, "the file must return the policy table {name = ..., tick = function(ctx) ... end}, got " +
                  typeName(L, -1));
    return 0;
  }
  const int def = lua_gettop(L);
  if (!checkFields(L, def, job) || !readName(L, def, job) || !readDescription(L, def, job) ||
      !readInterval(L, def, job) || !readTick(L, def, job) || !readInputs(L, def, job)) {
    return 0;
  }
  lua_newtable(L);
  const int params = lua_gettop(L);
  if (!readParams(L, def, params, job) || !applyOverrides(L, params, job) || !readOptional(L, def, params, job))
    return 0;
  pushInitialState(L, job);
  const int state = lua_gettop(L);

  CompiledPolicy& out = *job.out;
  out.interval = job.spec->interval > 0 ? job.spec->interval
                 : out.ownInterval > 0  ? out.ownInterval
                                        : kDefaultPolicyInterval;
  out.context->setName(out.name);
  out.context->setInterval(out.interval);
  out.context->install(L, params, state);
  lua_getfield(L, def, "tick");
  out.tickRef = luaL_ref(L, LUA_REGISTRYINDEX);
  return 0;
}

int tickChunk(lua_State* L) {
  CompiledPolicy& policy = *static_cast<CompiledPolicy*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, policy.tickRef);
  policy.context->pushForTick(L);
  lua_call(L, 1, 0);
  policy.context->pushState(L);
  std::string& problem = policy.context->scratch();
  if (!checkPlainData(L, -1, "ctx.state", problem)) {
    problem.insert(0, policy.file + ": ");
    problem += " (ctx.state keeps numbers, strings, booleans and tables of them)";
    lua_pushstring(L, problem.c_str());
    return lua_error(L);
  }
  return 0;
}

Error withFile(const std::string& file, Error error) {
  if (error.message.find(file) == std::string::npos) error.message = file + ": " + error.message;
  return error;
}

}  // namespace

Result<std::unique_ptr<CompiledPolicy>> compilePolicy(const PolicySpec& spec, const PolicyLimits& limits,
                                                      PolicyHost* host, const CompiledPolicy* previous,
                                                      LineObserver* lineObserver,
                                                      std::vector<WatchedFile>* watched) {
  Result<std::unique_ptr<LuaSandbox>> sandbox =
      LuaSandbox::create(limits.cpuBudget, limits.memoryCapBytes);
  if (!sandbox.ok()) return withFile(spec.file, sandbox.error());
  auto policy = std::make_unique<CompiledPolicy>();
  policy->library = std::make_unique<PolicyLibrary>(spec.file);
  policy->sandbox = std::move(*sandbox);
  policy->sandbox->setChunkFile(spec.file);
  policy->sandbox->setLineObserver(lineObserver);
  policy->context = std::make_unique<PolicyContext>(host, spec.priority, spec.order);
  policy->file = spec.file;

  CompileJob job{&spec, policy.get(), previous, {}, {}, {}, {}};
  lua_State* from = previous ? previous->sandbox->state() : nullptr;
  const int fromTop = from ? lua_gettop(from) : 0;
  Status ran = policy->sandbox->run(compileChunk, &job);
  if (from) lua_settop(from, fromTop);  // a raise midway through copying ctx.state
  if (watched) *watched = policy->library->watched();
  if (!ran.ok()) return withFile(spec.file, ran.error());
  if (!job.error.empty()) return makeError(job.error);
  return policy;
}

Status runTick(CompiledPolicy& policy) {
  Status ran = policy.sandbox->run(tickChunk, &policy);
  if (!ran.ok()) return withFile(policy.file, ran.error());
  return ran;
}

}  // namespace trimtab
