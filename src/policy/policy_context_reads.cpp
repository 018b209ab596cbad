// SPDX-License-Identifier: Apache-2.0
// The ctx functions that read metrics. Every read asks the store to keep the
// metric (so history starts with the first read), and is recorded with its
// outcome so the governor can veto decisions built on stale or missing data.
#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/units.h"
#include "policy/policy_context.h"
#include "policy/policy_context_args.h"

namespace trimtab {
namespace {

// Which arguments follow (metric [, labels]).
enum Shape : unsigned {
  kPlain = 0,
  kWindow = 1,    // a duration: "5m" or seconds
  kQuantile = 2,  // q in [0, 1]
  kAgg = 4,       // optional "sum" | "avg" | "max" | "min"
};

void formatNumber(lua_State* L, int index, char* buffer, std::size_t size) {
  if (lua_isinteger(L, index)) {
    std::snprintf(buffer, size, "%lld", static_cast<long long>(lua_tointeger(L, index)));
  } else {
    std::snprintf(buffer, size, "%.17g", lua_tonumber(L, index));
  }
}

struct OpName {
  const char* key;
  LabelMatcher::Op op;
};
constexpr OpName kOps[] = {
    {"eq", LabelMatcher::Op::Equal},
    {"ne", LabelMatcher::Op::NotEqual},
    {"re", LabelMatcher::Op::Regex},
    {"nre", LabelMatcher::Op::NotRegex},
};

// {code = "200"}, {code = 200}, {code = {ne = "500"}}, {route = {re = "/api/.*"}}.
void parseLabels(lua_State* L, PolicyContext& c, int index) {
  MetricQuery& q = c.query();
  char number[64];
  luaL_checkstack(L, 5, "label matchers");
  lua_pushnil(L);
  while (lua_next(L, index)) {
    const int top = lua_gettop(L);  // [key, value]
    if (lua_type(L, -2) != LUA_TSTRING) {
      luaL_error(L, "label matchers: label names must be strings, got a %s", luaL_typename(L, -2));
    }
    const char* label = lua_tostring(L, -2);
    LabelMatcher::Op op = LabelMatcher::Op::Equal;
    const char* value = nullptr;
    int type = lua_type(L, -1);
    if (type == LUA_TSTRING) {
      value = lua_tostring(L, -1);
    } else if (type == LUA_TNUMBER) {
      formatNumber(L, -1, number, sizeof number);
      value = number;
    } else if (type == LUA_TTABLE) {
      // The operand stays on the stack (in `slot`) until the matcher has
      // copied it: an __index may have made the string, and the next
      // lookup runs Lua, whose collector would free it.
      const int table = lua_gettop(L);
      lua_pushnil(L);
      const int slot = table + 1;
      int found = 0;
      for (const OpName& candidate : kOps) {
        int t = lua_getfield(L, table, candidate.key);
        if (t == LUA_TSTRING) {
          lua_copy(L, -1, slot);
          op = candidate.op;
          ++found;
        } else if (t == LUA_TNUMBER) {
          formatNumber(L, -1, number, sizeof number);
          value = number;
          op = candidate.op;
          ++found;
        }
        lua_pop(L, 1);
      }
      if (lua_type(L, slot) == LUA_TSTRING) value = lua_tostring(L, slot);
      if (found != 1) {
        luaL_error(L, "label matcher for '%s' must have exactly one of eq, ne, re, nre (e.g. {ne = \"500\"})",
                   label);
      }
    } else {
      luaL_error(L, "label matcher for '%s' must be a string or a table like {re = \"5..\"}, got a %s", label,
                 luaL_typename(L, -1));
    }
    LabelMatcher& m = q.matchers.emplace_back();
    if (!c.makeMatcher(label, op, value, m)) luaL_error(L, "%s", c.scratch().c_str());
    lua_settop(L, top - 1);  // the key stays for lua_next
  }
  std::sort(q.matchers.begin(), q.matchers.end(), [](const LabelMatcher& a, const LabelMatcher& b) {
    return a.name != b.name ? a.name < b.name : a.op < b.op;
  });
}

// Reads (metric [, labels] [, window] [, q] [, agg]) into c.query().
void parseQuery(lua_State* L, PolicyContext& c, unsigned shape) {
  MetricQuery& q = c.query();
  int next = parseSelector(L, c);
  if (shape & kWindow) q.window = checkDuration(L, c, next++, "window");
  if (shape & kQuantile) {
    double v = luaL_checknumber(L, next);
    if (!(v >= 0 && v <= 1)) luaL_argerror(L, next, "the quantile must be between 0 and 1");
    q.q = v;
    ++next;
  }
  if ((shape & kAgg) && !lua_isnoneornil(L, next)) {
    std::optional<Aggregation> agg = parseAggregation(luaL_checkstring(L, next));
    if (!agg) luaL_argerror(L, next, "expected \"sum\", \"avg\", \"max\" or \"min\"");
    q.agg = *agg;
  }
}

int pushOutcome(lua_State* L, const ReadOutcome& r) {
  if (r.missing) {
    lua_pushnil(L);
    lua_pushliteral(L, "missing");
    return 2;
  }
  lua_pushnumber(L, r.value);
  if (!r.stale) return 1;
  lua_pushliteral(L, "stale");
  return 2;
}

// Parses, keeps the metric in the store, reads, records. Returns the outcome.
template <class Read>
ReadOutcome read(lua_State* L, const char* function, unsigned shape, Read&& doRead) {
  PolicyContext& c = activeContext(L, function);
  parseQuery(L, c, shape);
  SeriesStore& store = c.host()->store();
  c.retain(L, store, c.query().metric, c.query().window);
  ReadOutcome r = doRead(c, store);
  c.recordRead(function, c.query(), r);
  return r;
}

int ctxValue(lua_State* L) {
  return pushOutcome(L, read(L, "value", kAgg, [](PolicyContext& c, SeriesStore& s) {
                       return c.reader().value(s, c.query());
                     }));
}

int ctxRate(lua_State* L) {
  return pushOutcome(L, read(L, "rate", kWindow | kAgg, [](PolicyContext& c, SeriesStore& s) {
                       return c.reader().rate(s, c.query(), c.now());
                     }));
}

int ctxIncrease(lua_State* L) {
  return pushOutcome(L, read(L, "increase", kWindow | kAgg, [](PolicyContext& c, SeriesStore& s) {
                       return c.reader().increase(s, c.query(), c.now());
                     }));
}

int ctxQuantile(lua_State* L) {
  return pushOutcome(L, read(L, "quantile", kWindow | kQuantile, [](PolicyContext& c, SeriesStore& s) {
                       return c.reader().quantile(s, c.query(), c.now());
                     }));
}

void setStat(lua_State* L, const char* key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

int ctxWindow(lua_State* L) {
  WindowStats w;
  ReadOutcome r = read(L, "window", kWindow, [&w](PolicyContext& c, SeriesStore& s) {
    return c.reader().window(s, c.query(), c.now(), w);
  });
  if (r.missing) return pushOutcome(L, r);
  lua_createtable(L, 0, 8);
  PolicyContext& c = *static_cast<PolicyContext*>(lua_touserdata(L, lua_upvalueindex(1)));
  c.pushKeys(L);  // [result, keys]
  auto set = [L](PolicyContext::Key key, double v) {
    lua_rawgeti(L, -1, key);
    lua_pushnumber(L, v);
    lua_rawset(L, -4);
  };
  set(PolicyContext::kKeyAvg, w.avg);
  set(PolicyContext::kKeyMin, w.min);
  set(PolicyContext::kKeyMax, w.max);
  set(PolicyContext::kKeySum, w.sum);
  set(PolicyContext::kKeyFirst, w.first);
  set(PolicyContext::kKeyLast, w.last);
  set(PolicyContext::kKeyStddev, w.stddev);
  lua_rawgeti(L, -1, PolicyContext::kKeyCount);
  lua_pushinteger(L, static_cast<lua_Integer>(w.count));
  lua_rawset(L, -4);
  lua_pop(L, 1);
  if (!r.stale) return 1;
  lua_pushliteral(L, "stale");
  return 2;
}

// A list of {labels = {...}, value = v, stale = bool, time = t}. Its input
// read is stale only when every matching series is: the policy sees each
// series' staleness and can leave the stale ones out.
int ctxSeries(lua_State* L) {
  PolicyContext& c = activeContext(L, "series");
  parseQuery(L, c, kPlain);
  SeriesStore& store = c.host()->store();
  c.retain(L, store, c.query().metric, 0);
  const std::vector<SeriesId>& ids = c.reader().select(store, c.query());
  std::size_t stale = 0;
  lua_createtable(L, static_cast<int>(ids.size()), 0);
  for (std::size_t i = 0; i < ids.size(); ++i) {
    Latest latest = store.latest(ids[i]);
    lua_createtable(L, 0, 4);
    lua_createtable(L, 0, 4);
    for (const Label& label : c.labels() = store.labels(ids[i])) {
      lua_pushlstring(L, label.value.data(), label.value.size());
      lua_setfield(L, -2, label.name.c_str());
    }
    lua_setfield(L, -2, "labels");
    if (latest.found) {
      setStat(L, "value", latest.value);
      setStat(L, "time", latest.timestamp);
    }
    stale += latest.stale || !latest.found;
    lua_pushboolean(L, latest.stale || !latest.found);
    lua_setfield(L, -2, "stale");
    lua_rawseti(L, -2, static_cast<lua_Integer>(i + 1));
  }
  ReadOutcome r;
  r.series = ids.size();
  r.missing = ids.empty();
  r.stale = !ids.empty() && stale == ids.size();
  r.value = static_cast<double>(ids.size());
  c.recordRead("series", c.query(), r);
  if (!r.missing) return 1;
  lua_pushliteral(L, "missing");
  return 2;
}

const luaL_Reg kReadFunctions[] = {
    {"value", ctxValue},       {"window", ctxWindow}, {"quantile", ctxQuantile},
    {"rate", ctxRate},         {"increase", ctxIncrease}, {"series", ctxSeries},
    {nullptr, nullptr},
};

}  // namespace

int parseSelector(lua_State* L, PolicyContext& c) {
  MetricQuery& q = c.query();
  std::size_t length = 0;
  // A string, not a number Lua would turn into one: ctx.value(42) is a
  // mistake, not the metric "42".
  luaL_checktype(L, 1, LUA_TSTRING);
  const char* metric = checkName(L, 1, "metric", &length);
  if (length == 0) luaL_argerror(L, 1, "the metric name is empty");
  q.metric.assign(metric, length);
  q.matchers.clear();
  q.window = 0;
  q.q = 0;
  q.agg = Aggregation::Sum;
  if (lua_type(L, 2) == LUA_TTABLE) {
    parseLabels(L, c, 2);
    return 3;
  }
  return lua_isnil(L, 2) ? 3 : 2;
}

const char* checkName(lua_State* L, int arg, const char* what, std::size_t* length) {
  std::size_t n = 0;
  const char* name = luaL_checklstring(L, arg, &n);
  if (n > kMaxNameBytes) {
    luaL_error(L, "bad argument #%d: a %s name of %d bytes (at most %d)", arg, what, static_cast<int>(n),
               static_cast<int>(kMaxNameBytes));
  }
  if (length) *length = n;
  return name;
}

bool toDuration(lua_State* L, int index, Seconds& out, std::string& error) {
  int type = lua_type(L, index);
  if (type == LUA_TNUMBER) {
    out = lua_tonumber(L, index);
  } else if (type == LUA_TSTRING) {
    Result<Seconds> parsed = parseDuration(lua_tostring(L, index));
    if (!parsed.ok()) {
      error = parsed.error().message;
      return false;
    }
    out = *parsed;
  } else {
    error = std::string("expected a duration (\"5m\" or seconds), got ") + luaL_typename(L, index);
    return false;
  }
  if (!(out > 0) || std::isinf(out)) {
    error = "must be a positive duration";
    return false;
  }
  return true;
}

Seconds checkDuration(lua_State* L, PolicyContext& c, int arg, const char* what) {
  std::string_view text;
  if (lua_type(L, arg) == LUA_TSTRING) {
    std::size_t length = 0;
    const char* chars = lua_tolstring(L, arg, &length);
    text = std::string_view(chars, length);
    if (const Seconds* cached = c.cachedDuration(text)) return *cached;
  }
  Seconds seconds = 0;
  if (!toDuration(L, arg, seconds, c.scratch())) {
    c.scratch() = std::string(what) + ": " + c.scratch();
    luaL_argerror(L, arg, c.scratch().c_str());
  }
  if (!text.empty()) c.cacheDuration(text, seconds);
  return seconds;
}

void setMetricFunctions(lua_State* L) { luaL_setfuncs(L, kReadFunctions, 2); }

}  // namespace trimtab
