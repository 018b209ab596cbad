// SPDX-License-Identifier: Apache-2.0
// The ctx API a policy's tick(ctx) sees, over a real SeriesStore.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <string>

#include "policy/policy_context.h"
#include "policy/policy_engine.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

// The 1-based line of `file` holding `needle`.
int lineOf(const std::string& file, const std::string& needle) {
  std::ifstream in(file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

// Lua helpers prepended to test ticks: eq(a, b, what) fails with both values.
const char* kPrelude = R"(
local function eq(a, b, what)
  if a ~= b and not (type(a) == 'number' and type(b) == 'number' and math.abs(a - b) < 1e-9) then
    error(what .. ': got ' .. tostring(a) .. ', want ' .. tostring(b), 2)
  end
end
)";

// A policy file: prelude, optional extra table fields, a tick running `body`.
std::string policy(const std::string& name, const std::string& body, const std::string& fields = "") {
  return std::string(kPrelude) + "return {\n  name = '" + name + "',\n" + fields +
         "  tick = function(ctx)\n" + body + "\n  end,\n}\n";
}

// Tests that fail ticks on purpose must not be quarantined midway.
PolicyLimits noQuarantine() {
  PolicyLimits limits = testLimits();
  limits.quarantineAfterErrors = 0;
  return limits;
}

struct Fixture {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine{noQuarantine(), host};

  std::string load(const std::string& name, const std::string& body, const std::string& fields = "",
                   int priority = 0, int order = 0) {
    std::string file = dir.write(name + ".lua", policy(name, body, fields));
    Status added = engine.add(specFor(file, {}, priority, order));
    REQUIRE_MESSAGE(added.ok(), errorOf(added));
    return file;
  }
  PolicyTickResult tick(const std::string& name, Seconds now) {
    PolicyTickResult r = engine.tick(name, now);
    CHECK_MESSAGE(r.status.ok(), errorOf(r.status));
    return r;
  }
};

}  // namespace

TEST_CASE("ctx.value: label matchers, aggregation, missing") {
  Fixture f;
  f.host.addKnob("k", 1, 0, 10);
  f.host.scrape(100, {{"queue_depth", {{"q", "a"}}, 3}, {"queue_depth", {{"q", "b"}}, 5}});
  f.load("v", R"(
    eq(ctx.value('queue_depth', {q = 'a'}), 3, 'eq')
    eq(ctx.value('queue_depth'), 8, 'sum')
    eq(ctx.value('queue_depth', nil, 'max'), 5, 'max')
    eq(ctx.value('queue_depth', nil, 'min'), 3, 'min')
    eq(ctx.value('queue_depth', {}, 'avg'), 4, 'avg')
    eq(ctx.value('queue_depth', 'sum'), 8, 'agg without labels')
    eq(ctx.value('queue_depth', {q = {ne = 'a'}}), 5, 'ne')
    eq(ctx.value('queue_depth', {q = {re = 'a|b'}}), 8, 're')
    eq(ctx.value('queue_depth', {q = {re = 'a.'}}), nil, 're is anchored')
    eq(ctx.value('queue_depth', {q = {nre = 'a'}}), 5, 'nre')
    eq(ctx.value('queue_depth', {q = {eq = 'b'}}), 5, 'eq table')
    eq(ctx:value('queue_depth', {q = 'a'}), 3, 'colon call')
    eq(select('#', ctx.value('queue_depth', {q = 'a'})), 1, 'a fresh value returns one result')
    local v, why = ctx.value('nope')
    eq(v, nil, 'missing value')
    eq(why, 'missing', 'missing reason')
    local _, why2 = ctx.value('queue_depth', {q = 'zzz'})
    eq(why2, 'missing', 'no matching series')
    ctx.propose('k', 2, 'test'))");
  PolicyTickResult r = f.tick("v", 100);
  REQUIRE(r.proposals.size() == 1);
  const std::vector<InputRead>& in = r.proposals[0].inputs;
  REQUIRE(in.size() == 15);
  CHECK(in[0].what == "queue_depth{q=\"a\"}");
  CHECK(in[0].value == 3);
  CHECK_FALSE(in[0].stale);
  CHECK_FALSE(in[0].missing);
  CHECK(in[1].what == "queue_depth");
  CHECK(in[2].what == "max(queue_depth)");
  CHECK(in[4].what == "avg(queue_depth)");
  CHECK(in[6].what == "queue_depth{q!=\"a\"}");
  CHECK(in[7].what == "queue_depth{q=~\"a|b\"}");
  CHECK(in[9].what == "queue_depth{q!~\"a\"}");
  CHECK(in[13].what == "nope");
  CHECK(in[13].missing);
  CHECK(std::isnan(in[13].value));
}

TEST_CASE("ctx.value: bad arguments are errors with the policy's file:line") {
  Fixture f;
  f.host.scrape(1, {{"x", {}, 1}});
  std::string file = f.load("bad", R"(
    local which = ctx.now
    if which == 1 then ctx.value('x', {q = {xx = 'a'}}) end
    if which == 2 then ctx.value('x', {q = {re = '('}}) end
    if which == 3 then ctx.value('x', {'positional'}) end
    if which == 4 then ctx.value('x', nil, 'median') end
    if which == 5 then ctx.value() end
    if which == 6 then ctx.value('') end
    if which == 7 then ctx.value('x', {q = true}) end
    if which == 8 then ctx.value(42) end)");
  auto err = [&](Seconds t) { return errorOf(f.engine.tick("bad", t).status); };
  CHECK(contains(err(1), file + ":" + std::to_string(lineOf(file, "which == 1")) +
                             ": label matcher for 'q' must have exactly one of eq, ne, re, nre"));
  CHECK(contains(err(2), "bad regex for label q"));
  CHECK(contains(err(3), "label names must be strings"));
  CHECK(contains(err(4), "expected \"sum\", \"avg\", \"max\" or \"min\""));
  CHECK(contains(err(5), "bad argument #1 to 'value'"));
  CHECK(contains(err(6), "the metric name is empty"));
  CHECK(contains(err(7), "must be a string or a table"));
  CHECK(contains(err(8), "bad argument #1 to 'value' (string expected, got number)"));
}

TEST_CASE("ctx.window, quantile, rate, increase over declared inputs") {
  Fixture f;
  f.host.addKnob("k", 1, 0, 10);
  f.load("w", R"(
    local w = ctx.window('latency', nil, '30s')
    eq(w.count, 4, 'count') ; eq(w.avg, 4.5, 'avg') ; eq(w.min, 3, 'min') ; eq(w.max, 6, 'max')
    eq(w.sum, 18, 'sum') ; eq(w.first, 3, 'first') ; eq(w.last, 6, 'last')
    eq(w.stddev, math.sqrt(1.25), 'stddev')
    eq(ctx.window('latency', {}, 30).count, 4, 'numeric window')
    eq(ctx.quantile('latency', nil, '30s', 0.5), 4.5, 'median')
    eq(ctx.quantile('latency', '30s', 1), 6, 'max quantile, labels omitted')
    eq(ctx.increase('requests_total', {code = '200'}, '50s'), 450, 'increase across a reset')
    eq(ctx.rate('requests_total', {code = '200'}, '50s'), 9, 'rate')
    eq(ctx.rate('requests_total', nil, '50s'), 9, 'sum of rates')
    eq(ctx.rate('requests_total', nil, '50s', 'min'), 0, 'min of rates')
    eq(ctx.increase('requests_total', {code = {re = '5..'}}, '50s'), 0, 'flat counter')
    local none, why = ctx.window('nothing', nil, '30s')
    eq(none, nil, 'empty window') ; eq(why, 'missing', 'empty window reason')
    ctx.propose('k', 3))",
         "  inputs = { {metric = 'latency', window = '1m'}, {metric = 'requests_total', window = '2m'} },\n");
  const double counter[] = {0, 100, 200, 50, 150, 250};
  for (int i = 0; i < 6; ++i) {
    f.host.scrape(i * 10, {{"latency", {}, i + 1.0},
                           {"requests_total", {{"code", "200"}}, counter[i], MetricType::Counter},
                           {"requests_total", {{"code", "500"}}, 1, MetricType::Counter}});
  }
  PolicyTickResult r = f.tick("w", 50);
  REQUIRE(r.proposals.size() == 1);
  const std::vector<InputRead>& in = r.proposals[0].inputs;
  CHECK(in[0].what == "window(latency[30s])");
  CHECK(in[0].value == 4.5);
  CHECK(in[2].what == "quantile(0.5, latency[30s])");
  CHECK(in[4].what == "increase(requests_total{code=\"200\"}[50s])");
  CHECK(in[7].what == "min(rate(requests_total[50s]))");
  CHECK(in[9].what == "window(nothing[30s])");
  CHECK(in[9].missing);
}

TEST_CASE("ctx: the first read starts history; until then windows are missing") {
  Fixture f;
  f.load("fresh", R"(
    local r = ctx.rate('fresh_total', nil, '1m')
    ctx.log(r == nil and 'missing' or string.format('%.1f', r)))");
  f.host.scrape(0, {{"fresh_total", {}, 0, MetricType::Counter}});
  f.host.scrape(10, {{"fresh_total", {}, 10, MetricType::Counter}});
  CHECK(f.tick("fresh", 10).logs.at(0) == "fresh: missing");
  CHECK(f.host.store().readFilter().wants("fresh_total"));
  f.host.scrape(20, {{"fresh_total", {}, 30, MetricType::Counter}});
  CHECK(f.tick("fresh", 20).logs.at(0) == "fresh: 2.0");  // 20 over 10 s since the first read
}

TEST_CASE("ctx: a read with a longer window than the tick's earlier reads still starts that history") {
  // The context remembers what it retained, to skip the store's lookup; a
  // longer window must still reach the store.
  Fixture f;
  f.load("grow", R"(
    ctx.value('g')
    local w = ctx.window('g', nil, ctx.now >= 40 and '1m' or '1s')
    ctx.log(w and tostring(w.count) or 'missing'))");
  f.host.scrape(0, {{"g", {}, 1}});
  f.tick("grow", 0);  // retains g for the latest value, then for 1 s
  f.tick("grow", 40);  // asks for 1 m: history from here on
  for (int t = 50; t <= 80; t += 10) f.host.scrape(t, {{"g", {}, static_cast<double>(t)}});
  CHECK(f.tick("grow", 80).logs.at(0) == "grow: 4");  // 50, 60, 70, 80 kept
}

TEST_CASE("ctx: declared inputs are kept before the first tick") {
  Fixture f;
  f.load("decl", "", "  inputs = { 'plain_metric', {metric = 'windowed', window = 60} },\n");
  FamilyFilter filter = f.host.store().readFilter();
  CHECK(filter.wants("plain_metric"));
  CHECK(filter.wants("windowed"));
  CHECK_FALSE(filter.wants("other"));
}

TEST_CASE("ctx: stale inputs are returned, flagged, and recorded") {
  Fixture f;
  f.host.addKnob("k", 1, 0, 10);
  f.load("s", R"(
    local v, why = ctx.value('up')
    ctx.log(tostring(v), tostring(why))
    ctx.propose('k', 2))");
  f.host.scrape(0, {{"up", {}, 1}});
  PolicyTickResult fresh = f.tick("s", 0);
  CHECK(fresh.logs.at(0) == "s: 1.0 nil");
  REQUIRE(fresh.proposals.size() == 1);
  CHECK_FALSE(fresh.proposals[0].inputs.at(0).stale);

  for (int i = 1; i <= 3; ++i) f.host.failScrape(i);
  PolicyTickResult stale = f.tick("s", 3);
  CHECK(stale.logs.at(0) == "s: 1.0 stale");
  REQUIRE(stale.proposals.size() == 1);
  CHECK(stale.proposals[0].inputs.at(0).stale);
  CHECK_FALSE(stale.proposals[0].inputs.at(0).missing);
}

TEST_CASE("ctx.series lists matching series with labels, values and staleness") {
  Fixture f;
  f.host.addKnob("k", 1, 0, 10);
  f.host.scrape(5, {{"mem", {{"pod", "a"}, {"zone", "x"}}, 10}, {"mem", {{"pod", "b"}, {"zone", "x"}}, 20}});
  f.load("ser", R"(
    local list = ctx.series('mem', {zone = 'x'})
    eq(#list, 2, 'count')
    table.sort(list, function(a, b) return a.labels.pod < b.labels.pod end)
    eq(list[1].labels.pod, 'a', 'pod a') ; eq(list[1].labels.zone, 'x', 'zone')
    eq(list[1].value, 10, 'value a') ; eq(list[2].value, 20, 'value b')
    eq(list[1].stale, false, 'fresh') ; eq(list[1].time, 5, 'time')
    local empty, why = ctx.series('mem', {pod = 'c'})
    eq(#empty, 0, 'empty') ; eq(why, 'missing', 'why')
    ctx.propose('k', 1))");
  PolicyTickResult r = f.tick("ser", 5);
  REQUIRE(r.proposals.size() == 1);
  CHECK(r.proposals[0].inputs.at(0).what == "series(mem{zone=\"x\"})");
  CHECK(r.proposals[0].inputs.at(0).value == 2);
  CHECK(r.proposals[0].inputs.at(1).missing);
}

TEST_CASE("ctx.value: a matcher operand made by __index is kept until the matcher has it") {
  // The operand string comes from __index and nothing else holds it; the
  // lookups after it run Lua that allocates, so a collection could free it
  // (AddressSanitizer reported a use after free).
  Fixture f;
  f.host.scrape(1, {{"up", {{"job", "api1"}}, 1}, {"up", {{"job", "db"}}, 7}});
  f.load("m", R"(
    local made = setmetatable({}, {__index = function(_, k)
      if k == 'eq' then return 'api' .. tostring(math.floor(ctx.now)) end
      for i = 1, 2000 do local _ = string.rep('g', 200) .. i end
      collectgarbage('count')
    end})
    eq(ctx.value('up', {job = made}), 1, 'eq from __index')
    local ne = setmetatable({}, {__index = function(_, k)
      if k == 'ne' then return string.rep('a', 40) .. 'pi1' end
      for i = 1, 2000 do local _ = string.rep('h', 200) .. i end
    end})
    eq(ctx.value('up', {job = ne}), 8, 'ne from __index'))");
  f.tick("m", 1);
}

TEST_CASE("ctx: names longer than kMaxNameBytes are errors, not entries of the store") {
  Fixture f;
  f.host.addKnob("pool", 10, 5, 50);
  f.load("long", R"(
    local long = string.rep('n', 513)
    if ctx.now == 1 then ctx.value(long) end
    if ctx.now == 2 then ctx.knob(long) end
    if ctx.now == 3 then ctx.propose(long, 1) end
    if ctx.now == 4 then ctx.series(long) end
    if ctx.now == 5 then eq(ctx.value(string.rep('n', 512)), nil, 'the longest name is read') end)");
  auto err = [&](Seconds t) { return errorOf(f.engine.tick("long", t).status); };
  CHECK(contains(err(1), "a metric name of 513 bytes (at most 512)"));
  CHECK(contains(err(2), "a knob name of 513 bytes (at most 512)"));
  CHECK(contains(err(3), "a knob name of 513 bytes (at most 512)"));
  CHECK(contains(err(4), "a metric name of 513 bytes (at most 512)"));  // ctx.predict parses the same way
  f.tick("long", 5);
  CHECK_FALSE(f.host.store().retains(std::string(513, 'n')));
  CHECK(f.host.store().retains(std::string(512, 'n')));
}

TEST_CASE("ctx: a policy that builds metric names from changing values is stopped at kMaxRetainedFamilies") {
  Fixture f;
  f.host.scrape(1, {{"x", {}, 1}});
  // 2,000 new names a tick: the fifth tick reaches the bound.
  f.load("grow", R"(
    for i = 1, 2000 do ctx.value('m_' .. math.floor(ctx.now) .. '_' .. i) end
    eq(ctx.value('x'), 1, 'a known name still reads'))");
  for (int t = 1; t <= 4; ++t) f.tick("grow", t);
  CHECK(f.host.store().retainedFamilies() == 8'001);  // 4 x 2,000 and x
  PolicyTickResult r = f.engine.tick("grow", 5);
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(errorOf(r.status), "more than 10000 metric names read in this run"));
  CHECK(f.host.store().retainedFamilies() == 10'000);
}

TEST_CASE("ctx.params: a tick that writes into a table param changes no later tick") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(noQuarantine(), host);
  std::string file = dir.write("pm.lua", std::string(kPrelude) + R"(return {
  name = 'pm',
  params = { match = { db = 'app', nested = { a = 1 } }, plain = 3 },
  tick = function(ctx)
    local m = ctx.params.match
    ctx.log(tostring(m.db) .. ' ' .. tostring(m.nested.a) .. ' ' .. tostring(m.extra))
    m.db, m.nested.a, m.extra = 'other', 2, 'x'
    eq(ctx.params.match.db, 'other', 'within the tick, a table param is an ordinary table')
  end,
}
)");
  REQUIRE(engine.add(specFor(file)).ok());
  for (Seconds t : {1.0, 2.0}) {
    PolicyTickResult r = engine.tick("pm", t);
    REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
    REQUIRE(r.logs.size() == 1);
    CHECK(r.logs[0] == "pm: app 1 nil");
  }
  // A configured table (the config's mapping) is kept the same way.
  ParamMap match;
  match["db"] = "orders";
  std::string other = dir.write("pm2.lua", std::string(kPrelude) + R"(return {
  name = 'pm2',
  params = { match = {} },
  tick = function(ctx)
    ctx.log(tostring(ctx.params.match.db))
    ctx.params.match.db = 'changed'
  end,
}
)");
  REQUIRE(engine.add(specFor(other, {{"match", ParamValue(match)}})).ok());
  for (Seconds t : {1.0, 2.0}) {
    PolicyTickResult r = engine.tick("pm2", t);
    REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
    REQUIRE(r.logs.size() == 1);
    CHECK(r.logs[0] == "pm2: orders");
  }
}

TEST_CASE("ctx.knob describes a knob; unknown knobs are nil") {
  Fixture f;
  KnobState& pool = f.host.addKnob("pool", 10, 5, 50);
  pool.spec.maxStep = 5;
  pool.spec.cooldown = 30;
  pool.spec.unit = "connections";
  pool.lastChange = 42;
  pool.pending = true;
  f.host.addKnob("ratio", 0.5, 0, 1, false);
  f.load("kn", R"(
    local k = ctx.knob('pool')
    eq(k.value, 10, 'value') ; eq(math.type(k.value), 'integer', 'integer value')
    eq(k.min, 5, 'min') ; eq(k.max, 50, 'max') ; eq(k.baseline, 10, 'baseline') ; eq(k.step, 5, 'step')
    eq(k.integer, true, 'integer') ; eq(k.pending, true, 'pending') ; eq(k.last_change, 42, 'last change')
    eq(k.cooldown, 30, 'cooldown') ; eq(k.unit, 'connections', 'unit') ; eq(k.name, 'pool', 'name')
    local r = ctx.knob('ratio')
    eq(r.value, 0.5, 'ratio') ; eq(r.integer, false, 'not integer') ; eq(r.last_change, nil, 'never changed')
    eq(ctx.knob('nope'), nil, 'unknown'))");
  f.tick("kn", 1);
}

TEST_CASE("ctx.propose records policy, priority, order, location, reason and inputs") {
  Fixture f;
  f.host.addKnob("pool", 10, 5, 50);
  f.host.scrape(1, {{"load", {}, 0.9}});
  std::string file = f.load("prop", R"(
    local load = ctx.value('load')
    ctx.propose('pool', 20, string.format('load %.1f', load))
    ctx.propose('pool', 0 / 0))", "", 7, 3);
  PolicyTickResult r = f.tick("prop", 1);
  REQUIRE(r.proposals.size() == 2);
  const Proposal& p = r.proposals[0];
  CHECK(p.policy == "prop");
  CHECK(p.priority == 7);
  CHECK(p.order == 3);
  CHECK(p.knob == "pool");
  CHECK(p.value == 20);
  CHECK(p.reason == "load 0.9");
  CHECK(p.location == file + ":" + std::to_string(lineOf(file, "ctx.propose('pool', 20")));
  REQUIRE(p.inputs.size() == 1);
  CHECK(p.inputs[0].what == "load");
  CHECK(std::isnan(r.proposals[1].value));  // the governor rejects it, with a reason
  CHECK(r.proposals[1].reason.empty());
}

TEST_CASE("ctx.propose: unknown knobs and bad values fail the tick, dropping its proposals") {
  Fixture f;
  f.host.addKnob("db_pool_size", 10, 5, 50);
  f.load("bad", R"(
    ctx.propose('db_pool_size', 11)
    if ctx.now == 1 then ctx.propose('db_pool_sise', 12) end
    if ctx.now == 2 then ctx.propose('db_pool_size', '12') end
    if ctx.now == 3 then ctx.propose('db_pool_size', 12, {}) end
    if ctx.now == 4 then for i = 1, 100 do ctx.propose('db_pool_size', i) end end)");
  PolicyTickResult unknown = f.engine.tick("bad", 1);
  CHECK(contains(errorOf(unknown.status), "ctx.propose: unknown knob 'db_pool_sise' (did you mean 'db_pool_size'?)"));
  CHECK(unknown.proposals.empty());
  CHECK(contains(errorOf(f.engine.tick("bad", 2).status), "must be a number, got string"));
  CHECK(contains(errorOf(f.engine.tick("bad", 3).status), "the reason must be a string"));
  CHECK(contains(errorOf(f.engine.tick("bad", 4).status), "more than 64 proposals"));
}

TEST_CASE("ctx.log and print are collected, bounded in count and length") {
  Fixture f;
  f.load("log", R"(
    ctx.log('a', 1, true, nil)
    print('from', 'print')
    if ctx.now == 2 then ctx.log(string.rep('x', 5000)) end
    if ctx.now == 3 then for i = 1, 100 do ctx.log(i) end end)");
  PolicyTickResult one = f.tick("log", 1);
  REQUIRE(one.logs.size() == 2);
  CHECK(one.logs[0] == "log: a 1 true nil");
  CHECK(one.logs[1] == "log: from print");
  PolicyTickResult longLine = f.tick("log", 2);
  REQUIRE(longLine.logs.size() == 3);
  CHECK(longLine.logs[2].size() == std::string("log: ").size() + kMaxLogLineBytes + 3);
  PolicyTickResult many = f.tick("log", 3);
  REQUIRE(many.logs.size() == kMaxLogLinesPerTick + 1);
  CHECK(many.logs.back() == "log: 38 more log lines dropped (limit 64 per tick)");
}

TEST_CASE("ctx: now, name, interval, no predict without a service, state persistence") {
  Fixture f;
  f.load("misc", R"(
    eq(ctx.name, 'misc', 'name')
    eq(ctx.interval, 5, 'interval')
    eq(ctx.predict, nil, 'no ctx.predict when the host has no PredictService')
    ctx.state.ticks = (ctx.state.ticks or 0) + 1
    ctx.state.last = ctx.now
    ctx.log(ctx.now, ctx.state.ticks))", "  interval = '5s',\n");
  CHECK(f.tick("misc", 100).logs.at(0) == "misc: 100.0 1");
  CHECK(f.tick("misc", 105.5).logs.at(0) == "misc: 105.5 2");
}

TEST_CASE("ctx: reads past the record limit fold into one summary input") {
  Fixture f;
  f.host.addKnob("k", 1, 0, 10);
  f.host.scrape(1, {{"m", {}, 1}});
  f.load("many", R"(
    for i = 1, 70 do ctx.value('m') end
    ctx.value('absent')
    ctx.propose('k', 1))");
  PolicyTickResult r = f.tick("many", 1);
  REQUIRE(r.proposals.size() == 1);
  const std::vector<InputRead>& in = r.proposals[0].inputs;
  REQUIRE(in.size() == kMaxRecordedInputs + 1);
  CHECK(in.back().what == "(7 more reads)");
  CHECK(in.back().missing);  // the folded 'absent' read still vetoes
}

}  // namespace trimtab::test
