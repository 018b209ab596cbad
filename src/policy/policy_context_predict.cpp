// SPDX-License-Identifier: Apache-2.0
// ctx.predict: exhaustion ETA, trend and forecast of one series, answered by
// the host's PredictService over the store's points. Like the other reads,
// each call keeps the metric's history for its window, and is recorded as an
// input read so that stale or missing data vetoes the tick's proposals. The
// series' canonical key goes to the service, which keeps the series' cleaned
// window and fitted models under it (with the options), so calling every tick
// costs only the new samples.
//
// Lua is built as C here: an error longjmps past C++ destructors. Every
// function below raises only while it holds no C++ object that owns memory
// (the options and points live in the PolicyContext; messages go through
// c.scratch()).
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/units.h"
#include "controller/series_store.h"
#include "policy/policy_context.h"
#include "policy/policy_context_args.h"
#include "predict/predict_service.h"

namespace trimtab {
namespace {

enum class Question { Eta, Trend, Forecast };

// "eta": the journal's name of the read.
const char* shortName(Question q) {
  switch (q) {
    case Question::Eta: return "eta";
    case Question::Trend: return "trend";
    case Question::Forecast: return "forecast";
  }
  return "predict";
}

// "predict.eta": the name in messages, after "ctx.".
const char* functionName(Question q) {
  switch (q) {
    case Question::Eta: return "predict.eta";
    case Question::Trend: return "predict.trend";
    case Question::Forecast: return "predict.forecast";
  }
  return "predict";
}

// The keys of an options table. Positional arguments (trend's window,
// forecast's horizon) are not options of that function.
enum Option : unsigned {
  kWindow = 1,
  kHorizon = 2,
  kModel = 4,
  kCounter = 8,
  kAlpha = 16,
  kLevel = 32,
};
struct OptionName {
  const char* name;
  unsigned bit;
};
constexpr OptionName kOptionNames[] = {
    {"window", kWindow}, {"horizon", kHorizon}, {"model", kModel},
    {"counter", kCounter}, {"alpha", kAlpha},   {"level", kLevel},
};

unsigned allowedOptions(Question q) {
  switch (q) {
    case Question::Eta: return kWindow | kHorizon | kModel | kCounter | kAlpha | kLevel;
    case Question::Trend: return kHorizon | kModel | kCounter | kAlpha;
    case Question::Forecast: return kWindow | kModel | kCounter | kLevel;
  }
  return 0;
}

[[noreturn]] void raiseBadOption(lua_State* L, PolicyContext& c, Question q, const char* key, bool known) {
  {
    std::vector<std::string> names;
    for (const OptionName& o : kOptionNames) {
      if (o.bit & allowedOptions(q)) names.emplace_back(o.name);
    }
    std::string suggestion = known ? std::string() : closestMatch(key, names);
    c.scratch() = std::string("ctx.") + functionName(q) + ": " + (known ? "option '" : "unknown option '") + key +
                  (known ? "' does not apply here" : "'");
    if (!suggestion.empty()) {
      c.scratch() += " (did you mean '" + suggestion + "'?)";
    } else {
      c.scratch() += " (options:";
      for (const std::string& n : names) c.scratch() += " " + n;
      c.scratch() += ")";
    }
  }
  luaL_error(L, "%s", c.scratch().c_str());
  std::abort();  // unreachable: luaL_error does not return
}

[[noreturn]] void raiseOption(lua_State* L, Question q, const char* key, const char* problem) {
  luaL_error(L, "ctx.%s: option '%s': %s", functionName(q), key, problem);
  std::abort();  // unreachable
}

// An empty name (the default: chosen by backtest) or a registered estimator.
// Checked here, not only by the service, so that a typo fails the first tick
// even before the series has data. Sets c.scratch() when unknown.
bool knownModel(PolicyContext& c, const std::string& model) {
  static const std::vector<std::string> kModels = PredictService::models();
  if (model.empty() || std::find(kModels.begin(), kModels.end(), model) != kModels.end()) return true;
  std::string suggestion = closestMatch(model, kModels);
  c.scratch() = "unknown estimator '" + model + "'";
  if (!suggestion.empty()) {
    c.scratch() += " (did you mean '" + suggestion + "'?)";
  } else {
    c.scratch() += " (known:";
    for (const std::string& n : kModels) c.scratch() += " " + n;
    c.scratch() += ")";
  }
  return false;
}

// Reads the options table at `index` (absent or nil: defaults) into
// c.predictOptions(). Sets `counterSet` when the table says counter = ...
void parseOptions(lua_State* L, PolicyContext& c, Question q, int index, bool& counterSet) {
  if (lua_isnoneornil(L, index)) return;
  if (lua_type(L, index) != LUA_TTABLE) luaL_typeerror(L, index, "table of options or nil");
  PredictOptions& o = c.predictOptions();
  luaL_checkstack(L, 3, "options");
  lua_pushnil(L);
  while (lua_next(L, index)) {
    if (lua_type(L, -2) != LUA_TSTRING) {
      luaL_error(L, "ctx.%s: option names must be strings, got a %s", functionName(q), luaL_typename(L, -2));
    }
    const char* key = lua_tostring(L, -2);
    unsigned bit = 0;
    for (const OptionName& n : kOptionNames) {
      if (std::strcmp(n.name, key) == 0) bit = n.bit;
    }
    if (!(bit & allowedOptions(q))) raiseBadOption(L, c, q, key, bit != 0);
    switch (bit) {
      case kWindow:
      case kHorizon: {
        Seconds& target = bit == kWindow ? o.window : o.horizon;
        if (!toDuration(L, -1, target, c.scratch())) raiseOption(L, q, key, c.scratch().c_str());
        break;
      }
      case kModel:
        if (lua_type(L, -1) != LUA_TSTRING) raiseOption(L, q, key, "expected an estimator's name");
        o.model = lua_tostring(L, -1);
        if (!knownModel(c, o.model)) raiseOption(L, q, key, c.scratch().c_str());
        break;
      case kCounter:
        if (lua_type(L, -1) != LUA_TBOOLEAN) raiseOption(L, q, key, "expected true or false");
        o.counter = lua_toboolean(L, -1);
        counterSet = true;
        break;
      case kAlpha:
      case kLevel:
        if (lua_type(L, -1) != LUA_TNUMBER) raiseOption(L, q, key, "expected a number between 0 and 1");
        (bit == kAlpha ? o.alpha : o.level) = lua_tonumber(L, -1);
        if (!(lua_tonumber(L, -1) > 0 && lua_tonumber(L, -1) < 1)) raiseOption(L, q, key, "must be in (0, 1)");
        break;
      default:
        break;
    }
    lua_pop(L, 1);
  }
}

PredictService& checkService(lua_State* L, PolicyContext& c, Question q) {
  PredictService* service = c.host()->predict();
  if (!service) luaL_error(L, "ctx.%s: no prediction service in this host", functionName(q));
  return *service;
}

// eta(x{a="1"}[1h], 2147483648), trend(x[1h]), forecast(x[1h], 30m): what the journal shows.
std::string describe(PolicyContext& c, Question q, double extra) {
  std::string out = shortName(q);
  out += "(" + c.query().selector() + "[" + formatDuration(c.predictOptions().window) + "]";
  if (q == Question::Eta) {
    // Whole limits (byte counts) in full, others in their shortest exact form.
    char number[32];
    auto [end, ec] = std::abs(extra) < kMaxWholeAsInteger && extra == std::floor(extra)
                         ? std::to_chars(number, number + sizeof number, extra, std::chars_format::fixed)
                         : std::to_chars(number, number + sizeof number, extra);
    out += ", ";
    out.append(number, ec == std::errc() ? end : number);
  } else if (q == Question::Forecast) {
    out += ", " + formatDuration(extra);
  }
  return out + ")";
}

enum class Lookup { Found, Missing, Stale, Ambiguous };

// The one matching series, its window of points in c.points(). A counter
// series gets counter semantics unless the options said otherwise.
Lookup lookup(PolicyContext& c, bool counterSet, SeriesId& id, std::size_t& matches) {
  SeriesStore& store = c.host()->store();
  const PredictOptions& o = c.predictOptions();
  const std::vector<SeriesId>& ids = c.reader().select(store, c.query());
  matches = ids.size();
  if (ids.empty()) return Lookup::Missing;
  if (ids.size() > 1) return Lookup::Ambiguous;
  id = ids[0];
  if (store.isStale(id)) return Lookup::Stale;
  if (!counterSet) c.predictOptions().counter = store.type(id) == MetricType::Counter;
  c.points().clear();
  store.points(id, c.now() - o.window, c.now(), c.points());
  return c.points().empty() ? Lookup::Missing : Lookup::Found;
}

// nil, "missing" | "stale" | "ambiguous" [, message].
int pushUnanswered(lua_State* L, PolicyContext& c, Lookup found, std::size_t matches) {
  lua_pushnil(L);
  switch (found) {
    case Lookup::Stale:
      lua_pushliteral(L, "stale");
      return 2;
    case Lookup::Ambiguous:
      lua_pushliteral(L, "ambiguous");
      lua_pushfstring(L, "%s matches %d series; add labels to pick one", c.query().metric.c_str(),
                      static_cast<int>(matches));
      return 3;
    default:
      lua_pushliteral(L, "missing");
      return 2;
  }
}

void setNumber(lua_State* L, const char* key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

void setString(lua_State* L, const char* key, std::string_view v) {
  lua_pushlstring(L, v.data(), v.size());
  lua_setfield(L, -2, key);
}

int pushEta(lua_State* L, const EtaAnswer& a) {
  lua_createtable(L, 0, 10);
  setString(L, "status", etaStatusName(a.status));
  setNumber(L, "seconds", a.seconds);
  setNumber(L, "low", a.low);
  setNumber(L, "high", a.high);
  setNumber(L, "probability", a.probability);
  setNumber(L, "p_value", a.pValue);
  setNumber(L, "slope", a.slope);
  setString(L, "model", a.model);
  setString(L, "shape", a.shape);
  setNumber(L, "as_of", a.asOf);
  return 1;
}

int pushTrend(lua_State* L, const TrendAnswer& a) {
  lua_createtable(L, 0, 6);
  setNumber(L, "slope", a.slope);
  setNumber(L, "p_value", a.pValue);
  lua_pushboolean(L, a.significant);
  lua_setfield(L, -2, "significant");
  setString(L, "model", a.model);
  setString(L, "shape", a.shape);
  setNumber(L, "as_of", a.asOf);
  return 1;
}

int pushForecast(lua_State* L, const ForecastAnswer& a) {
  lua_createtable(L, 0, 5);
  setNumber(L, "value", a.value);
  setNumber(L, "low", a.low);
  setNumber(L, "high", a.high);
  setNumber(L, "at", a.at);
  setString(L, "model", a.model);
  return 1;
}

int pushInsufficient(lua_State* L) {
  lua_pushnil(L);
  lua_pushliteral(L, "insufficient");
  return 2;
}

// The service's messages start with "predict: "; ours name the function.
void describeError(PolicyContext& c, Question q, const Error& error) {
  std::string_view message = error.message;
  if (message.starts_with("predict: ")) message.remove_prefix(std::strlen("predict: "));
  c.scratch() = std::string("ctx.") + functionName(q) + ": ";
  c.scratch() += message;
}

// One question after its arguments are parsed: finds the series, asks the
// service, records the read, pushes the results. `extra` is eta's limit or
// forecast's horizon. Raises the service's errors (bad arguments).
int answer(lua_State* L, PolicyContext& c, Question q, double extra, bool counterSet) {
  PredictService& service = checkService(L, c, q);
  // Before the block below: it raises, and no C++ object may be alive then.
  c.retain(L, c.host()->store(), c.query().metric, c.predictOptions().window);
  int results = -1;
  {
    std::string what = describe(c, q, extra);
    SeriesId id = 0;
    std::size_t matches = 0;
    Lookup found = lookup(c, counterSet, id, matches);
    ReadOutcome read;
    read.series = matches;
    if (found != Lookup::Found) {
      read.stale = found == Lookup::Stale;
      read.missing = !read.stale;
      c.recordInput(what, read, c.query().metric);
      results = pushUnanswered(L, c, found, matches);
    } else {
      const std::string& key = c.host()->store().key(id);
      const PredictOptions& o = c.predictOptions();
      read.missing = false;
      if (q == Question::Eta) {
        Result<EtaAnswer> a = service.eta(key, c.points(), extra, o);
        if (!a.ok()) {
          describeError(c, q, a.error());
        } else {
          read.value = a->seconds;
          c.recordInput(what, read);
          results = pushEta(L, *a);
        }
      } else if (q == Question::Trend) {
        Result<TrendAnswer> a = service.trend(key, c.points(), o);
        if (!a.ok()) {
          describeError(c, q, a.error());
        } else {
          read.value = a->slope;
          read.missing = !a->enoughData;
          c.recordInput(what, read);
          results = a->enoughData ? pushTrend(L, *a) : pushInsufficient(L);
        }
      } else {
        Result<ForecastAnswer> a = service.forecast(key, c.points(), extra, o);
        if (!a.ok()) {
          describeError(c, q, a.error());
        } else {
          read.value = a->value;
          read.missing = !a->enoughData;
          c.recordInput(what, read);
          results = a->enoughData ? pushForecast(L, *a) : pushInsufficient(L);
        }
      }
    }
  }
  if (results < 0) return luaL_error(L, "%s", c.scratch().c_str());
  return results;
}

// ctx.predict.eta(metric, [labels], limit, [options])
int ctxEta(lua_State* L) {
  PolicyContext& c = activeContext(L, functionName(Question::Eta));
  int next = parseSelector(L, c);
  double limit = luaL_checknumber(L, next);
  if (!std::isfinite(limit)) luaL_argerror(L, next, "the limit must be a finite number");
  c.predictOptions() = PredictOptions{};
  bool counterSet = false;
  parseOptions(L, c, Question::Eta, next + 1, counterSet);
  return answer(L, c, Question::Eta, limit, counterSet);
}

// ctx.predict.trend(metric, [labels], window, [options])
int ctxTrend(lua_State* L) {
  PolicyContext& c = activeContext(L, functionName(Question::Trend));
  int next = parseSelector(L, c);
  c.predictOptions() = PredictOptions{};
  c.predictOptions().window = checkDuration(L, c, next, "window");
  bool counterSet = false;
  parseOptions(L, c, Question::Trend, next + 1, counterSet);
  return answer(L, c, Question::Trend, 0, counterSet);
}

// ctx.predict.forecast(metric, [labels], horizon, [options])
int ctxForecast(lua_State* L) {
  PolicyContext& c = activeContext(L, functionName(Question::Forecast));
  int next = parseSelector(L, c);
  c.predictOptions() = PredictOptions{};
  Seconds horizon = checkDuration(L, c, next, "horizon");
  bool counterSet = false;
  parseOptions(L, c, Question::Forecast, next + 1, counterSet);
  return answer(L, c, Question::Forecast, horizon, counterSet);
}

const luaL_Reg kPredictFunctions[] = {
    {"eta", ctxEta},
    {"trend", ctxTrend},
    {"forecast", ctxForecast},
    {nullptr, nullptr},
};

}  // namespace

void setPredictFunctions(lua_State* L) { luaL_setfuncs(L, kPredictFunctions, 2); }

}  // namespace trimtab
