// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <lua.hpp>

#include "common/clock.h"
#include "controller/decision.h"
#include "policy/metric_query.h"
#include "policy/policy_engine.h"
#include "predict/predict_service.h"

namespace trimtab {

// Bounds on what one tick may record.
inline constexpr std::size_t kMaxLogLinesPerTick = 64;
inline constexpr std::size_t kMaxLogLineBytes = 1024;
inline constexpr std::size_t kMaxReasonBytes = 512;
inline constexpr std::size_t kMaxProposalsPerTick = 64;
inline constexpr std::size_t kMaxRecordedInputs = 64;  // further reads fold into one summary entry
inline constexpr std::size_t kMaxRetainedCache = 16;   // metrics a context remembers retaining
// Longest metric or knob name a policy may pass: names longer than any real
// one are a bug, and each would stay in the store or the run's statistics.
inline constexpr std::size_t kMaxNameBytes = 512;
// Metric names the policies of one run may ask the store to keep: each one
// read stays in the scrape's filter for good, so a policy building names
// from changing values (ctx.value("x" .. ctx.now)) would grow it without end.
inline constexpr std::size_t kMaxRetainedFamilies = 10'000;
// Whole numbers below this magnitude reach Lua as integers (exact both as a
// double and as a lua_Integer), so string.format("%d", n) works on them.
inline constexpr double kMaxWholeAsInteger = 9.0e15;

// The `ctx` a policy's tick(ctx) receives (see docs/policy-api.md), and what
// one tick recorded through it. One per compiled policy; its Lua side (the
// ctx table, params proxy, state table) lives in that policy's lua_State and
// is reused by every tick.
//
// The ctx functions work only between begin() and end(): a policy that keeps
// ctx and calls it later gets an error, never a dangling host.
class PolicyContext {
 public:
  // Field names the ctx functions set on every call, interned once per Lua
  // state: lua_setfield would look each name up in Lua's string cache (a
  // strcmp) on every call, and these run every tick.
  enum Key : int {
    kKeyAvg = 1, kKeyMin, kKeyMax, kKeySum, kKeyFirst, kKeyLast, kKeyStddev, kKeyCount,
    kKeyValue, kKeyPending, kKeyLastChange, kKeyNow, kKeyEnd
  };
  // `host` may be null (compile-only checks).
  PolicyContext(PolicyHost* host, int priority, int order);

  // Builds ctx (functions, read-only params over the table at `paramsIndex`,
  // state = the table at `stateIndex`) and rebinds the global print() to
  // ctx.log. REQUIRES: inside LuaSandbox::run.
  void install(lua_State* L, int paramsIndex, int stateIndex);
  // Pushes ctx with ctx.now set. REQUIRES: inside run, between begin() and end().
  void pushForTick(lua_State* L) const;  // also gives ctx.params fresh copies of its tables
  // Pushes ctx.state. Needs no protection (no allocation).
  void pushState(lua_State* L) const;

  void setName(std::string name) { name_ = std::move(name); }
  const std::string& name() const { return name_; }
  void setInterval(Seconds interval) { interval_ = interval; }
  // Metric and knob names the policy declares it works without (its
  // `optional` params' values): reads of them that find nothing are not
  // reported by missingReads() (they still veto what follows them).
  void setOptionalNames(std::vector<std::string> names) { optionalNames_ = std::move(names); }

  void begin(Seconds now);
  void end();
  bool active() const { return active_; }
  Seconds now() const { return now_; }
  PolicyHost* host() const { return host_; }
  int priority() const { return priority_; }
  int order() const { return order_; }

  // What the current (or last) tick recorded. The reads' texts are formatted
  // here, on demand (a proposal copies them), not at every read: most ticks
  // propose nothing.
  const std::vector<InputRead>& inputs();
  // Appends the reads of the current (or last) tick that found no data, each
  // once, up to kMaxReportedMissing in all, but those of optional names.
  // Formats only those.
  void missingReads(std::vector<MissingRead>& out) const;
  // ctx.knob() of a knob nobody governs answers nil (documented) and is no
  // input, so it vetoes nothing; it is reported with the missing reads.
  void noteUnknownKnob(std::string_view name);
  std::vector<Proposal>& proposals() { return proposals_; }
  std::vector<std::string>& logs() { return logs_; }

  // --- for the ctx functions (policy_context*.cpp) ---
  // A read described by its query (formatted only if inputs() is asked for).
  // `function` must be a string literal.
  void recordRead(const char* function, const MetricQuery& query, const ReadOutcome& outcome);
  // A read described by a ready text (predictions) of `metric` ("" if none).
  void recordInput(const std::string& what, const ReadOutcome& outcome, const std::string& metric = {});
  // Pushes ctx.knob(name)'s table for `knob`: one read-only table per knob,
  // kept between ticks and rewritten only when the knob changed, so a policy
  // asking for its knob every tick allocates nothing.
  void pushKnob(lua_State* L, const KnobState& knob);
  // Pushes the table of interned keys (index by Key).
  void pushKeys(lua_State* L) const { lua_rawgeti(L, LUA_REGISTRYINDEX, keysRef_); }
  void addLog(const char* text, std::size_t length);
  MetricQuery& query() { return query_; }
  MetricReader& reader() { return reader_; }
  std::string& scratch() { return scratch_; }  // messages built before raising
  // store.retain(metric, window), skipped when this policy already asked for
  // as much: a tick reads the same few metrics every time, and retaining
  // is a lookup by name in the store.
  // Raises (a Lua error on L) when `metric` would be the store's
  // kMaxRetainedFamilies + 1st retained name.
  void retain(lua_State* L, SeriesStore& store, const std::string& metric, Seconds window);
  // Durations given as text ("10m") are parsed once: a policy passes the same
  // few strings every tick. Null when `text` is not cached.
  const Seconds* cachedDuration(std::string_view text) const;
  void cacheDuration(std::string_view text, Seconds seconds);
  Labels& labels() { return labels_; }         // ctx.series() scratch
  PredictOptions& predictOptions() { return predictOptions_; }  // ctx.predict scratch
  std::vector<Point>& points() { return points_; }               // ctx.predict scratch (reused)
  // A matcher for `op` on `label`; regexes compile once per pattern.
  // Returns false with scratch() set when the regex does not compile.
  bool makeMatcher(const char* label, LabelMatcher::Op op, const char* value, LabelMatcher& out);

 private:
  // Keeps the params whose values are tables for pushForTick (install()).
  void saveTableParams(lua_State* L, int paramsIndex);

  PolicyHost* host_;
  int priority_;
  int order_;
  std::string name_;
  Seconds interval_ = 0;
  Seconds now_ = 0;
  bool active_ = false;
  int ctxRef_ = LUA_NOREF;    // the read-only proxy handed to tick()
  int innerRef_ = LUA_NOREF;  // the table behind it
  int stateRef_ = LUA_NOREF;
  int keysRef_ = LUA_NOREF;
  // Params whose values are tables (label matchers): `paramsRef_` is the
  // table behind ctx.params, `tableParamsRef_` maps each such name to its
  // configured value, copied into ctx.params at every tick so that a tick
  // that writes into one (ctx.params.match.pid = ...) changes no later tick.
  int paramsRef_ = LUA_NOREF;
  int tableParamsRef_ = LUA_NOREF;
  struct RecordedRead {
    const char* function = nullptr;  // null: `what` holds the text
    MetricQuery query;
    std::string what;
    std::string metric;  // of a read given by `what`
    double value = 0;
    bool stale = false;
    bool missing = false;
  };
  // The next slot to record into, or null when the read is folded into the summary.
  RecordedRead* nextRead(const ReadOutcome& outcome);
  std::vector<RecordedRead> reads_;  // [0, readCount_) this tick; kept to reuse their buffers
  std::vector<std::string> optionalNames_;
  std::vector<std::string> unknownKnobs_;  // this tick, each once, at most kMaxReportedMissing
  std::size_t readCount_ = 0;
  std::size_t foldedInputs_ = 0;  // reads past kMaxRecordedInputs, summarised
  bool foldedStale_ = false;
  bool foldedMissing_ = false;
  std::vector<InputRead> inputs_;
  bool inputsCurrent_ = false;
  struct CachedKnob {
    std::string name;
    int innerRef = LUA_NOREF;  // the fields
    int proxyRef = LUA_NOREF;  // the read-only table handed out
    bool filled = false;
    KnobState shown;           // what the fields were last filled from
  };
  std::vector<CachedKnob> knobs_;
  std::vector<Proposal> proposals_;
  std::vector<std::string> logs_;
  std::size_t droppedLogs_ = 0;
  MetricQuery query_;
  MetricReader reader_;
  std::string scratch_;
  struct CachedDuration {
    std::string text;
    Seconds seconds = 0;
  };
  std::array<CachedDuration, 4> durations_;  // round robin
  std::size_t nextDuration_ = 0;
  struct Retained {
    std::string metric;
    Seconds window = 0;
  };
  std::vector<Retained> retained_;  // what this policy retained (retention never shrinks)
  const SeriesStore* retainedIn_ = nullptr;
  Labels labels_;
  PredictOptions predictOptions_;
  std::vector<Point> points_;
  std::unordered_map<std::string, LabelMatcher> regexCache_;
};

// For the ctx functions: the context bound to the running closure (upvalue 1).
// Raises when called outside a tick, and drops a leading ctx argument so that
// ctx:value(...) works like ctx.value(...).
PolicyContext& activeContext(lua_State* L, const char* function);

// Sets the metric-reading functions (value, window, quantile, rate, increase,
// series) into a table, as luaL_setfuncs: the table just below the two
// upvalues of every ctx function (context, ctx proxy), which are popped.
void setMetricFunctions(lua_State* L);

// Sets ctx.predict's functions (eta, trend, forecast) into a table, the same
// way (upvalues: context, the ctx.predict proxy).
void setPredictFunctions(lua_State* L);

}  // namespace trimtab
