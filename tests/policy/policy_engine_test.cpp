// SPDX-License-Identifier: Apache-2.0
// The engine: loading and checking policy files, params, intervals,
// quarantine, hot reload.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "policy/policy_engine.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

const char* kParamsPolicy = R"(return {
  name = 'params',
  params = { threshold = 10, timeout = 1.5, enabled = true, label = 'x', limit = 100, nested = {a = 1} },
  tick = function(ctx)
    local p = ctx.params
    ctx.log(math.type(p.threshold), p.threshold, p.timeout, tostring(p.enabled), p.label, p.limit, p.nested.a)
  end,
})";

}  // namespace

TEST_CASE("engine: a minimal policy loads; intervals come from config, file or default") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string own = dir.write("own.lua", "return { name = 'own', interval = '5s', tick = function(ctx) end }");
  std::string plain = dir.write("plain.lua", "return { name = 'plain', tick = function(ctx) end }");
  std::string numeric = dir.write("num.lua", "return { name = 'num', interval = 2.5, tick = function(ctx) end }");
  PolicySpec overridden = specFor(own);
  overridden.interval = 30;
  REQUIRE(engine.add(specFor(own)).ok());
  REQUIRE(engine.add(specFor(plain)).ok());
  REQUIRE(engine.add(specFor(numeric)).ok());
  CHECK(engine.names() == std::vector<std::string>{"own", "plain", "num"});
  CHECK(engine.interval("own") == 5);
  CHECK(engine.interval("plain") == 10);
  CHECK(engine.interval("num") == 2.5);
  CHECK(engine.file("own") == own);
  CHECK(engine.file("nope").empty());

  // The same name twice is refused.
  Status twice = engine.add(overridden);
  CHECK(contains(errorOf(twice), "policy name 'own' is already used by " + own));

  PolicyEngine other(testLimits(), host);
  REQUIRE(other.add(overridden).ok());
  CHECK(other.interval("own") == 30);
}

TEST_CASE("engine: check reports syntax errors, missing tick, bad name, interval and fields") {
  TempDir dir;
  PolicyLimits limits = testLimits();
  auto check = [&](const std::string& name, const std::string& text) {
    return errorOf(PolicyEngine::check(specFor(dir.write(name, text)), limits));
  };
  std::string syntax = check("syntax.lua", "return {\n  name = 'x',\n  tick = function(ctx) if end,\n}");
  CHECK_MESSAGE(contains(syntax, (dir.path() / "syntax.lua").string() + ":3:"), syntax);

  CHECK(contains(check("notable.lua", "return 42"), "must return the policy table"));
  CHECK(contains(check("notick.lua", "return { name = 'x' }"), "policy 'x' has no tick(ctx) function"));
  CHECK(contains(check("typo.lua", "return { name = 'x', tik = function() end }"), "is 'tik' a typo of 'tick'?"));
  CHECK(contains(check("noname.lua", "return { tick = function() end }"), "'name' must be a string"));
  CHECK(contains(check("badname.lua", "return { name = 'has space', tick = function() end }"), "got 'has space'"));
  CHECK(contains(check("badinterval.lua", "return { name = 'x', interval = 'fast', tick = function() end }"),
                 "interval: expected a duration like 5s or 2m"));
  CHECK(contains(check("zero.lua", "return { name = 'x', interval = 0, tick = function() end }"),
                 "interval: must be positive"));
  CHECK(contains(check("field.lua", "return { name = 'x', intervall = '5s', tick = function() end }"),
                 "unknown field 'intervall' (did you mean 'interval'?)"));
  CHECK(contains(check("inputs.lua", "return { name = 'x', inputs = { {window = '5m'} }, tick = function() end }"),
                 "inputs[1]: expected {metric"));
  CHECK(contains(check("empty.lua", ""), "must return the policy table {name = ..., tick = function(ctx) ... end}, got nil"));
  std::string absent = errorOf(PolicyEngine::check(specFor((dir.path() / "absent.lua").string()), limits));
  CHECK_MESSAGE(contains(absent, "cannot open"), absent);
  CHECK(contains(check("binary.lua", "\x1bLua\x54"), "binary chunk"));
  CHECK(check("good.lua", "return { name = 'x', helper = function() end, tick = function() end }") == "(ok)");
}

TEST_CASE("engine: reads of `optional` params' names are not reported missing; the rest are") {
  TempDir dir;
  FakeHost host;
  const std::string file = dir.write("optional.lua", R"(return {
  name = 'opt',
  params = { needed = 'needed_metric', psi = 'psi_metric', closer = 'close_knob', off = '' },
  optional = { 'psi', 'closer', 'off' },
  tick = function(ctx)
    local p = ctx.params
    ctx.value(p.psi)
    ctx.knob(p.closer)
    ctx.value(p.needed)
    ctx.knob('other_knob')
  end,
})");
  auto missingOf = [&](std::map<std::string, ParamValue> params) {
    PolicyEngine engine(testLimits(), host);
    Status added = engine.add(specFor(file, std::move(params)));
    REQUIRE_MESSAGE(added.ok(), errorOf(added));
    PolicyTickResult r = engine.tick("opt", 1);
    REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
    std::string names;
    for (const MissingRead& m : r.missing) names += (names.empty() ? "" : " ") + m.what;
    return names;
  };
  CHECK(missingOf({}) == "knob(other_knob) needed_metric");
  // The config's value is what is optional: the default name is then an ordinary read.
  CHECK(missingOf({{"psi", std::string("node_psi")}, {"needed", std::string("psi_metric")}}) ==
        "knob(other_knob) psi_metric");

  PolicyLimits limits = testLimits();
  auto check = [&](const std::string& name, const std::string& optional) {
    return errorOf(PolicyEngine::check(
        specFor(dir.write(name, "return { name = 'x', params = { metric = 'a', n = 5 }, optional = " + optional +
                                    ", tick = function() end }")),
        limits));
  };
  CHECK(check("ok.lua", "{ 'metric' }") == "(ok)");
  CHECK(contains(check("table.lua", "'metric'"),
                 "'optional' must be a list of param names like { \"psi_metric\" }, got string"));
  CHECK(contains(check("typo.lua", "{ 'metrik' }"),
                 "optional[1]: 'metrik' is not a param of policy 'x' (did you mean 'metric'?)"));
  CHECK(contains(check("number.lua", "{ 'metric', 'n' }"),
                 "optional[2]: params.n is a number; optional lists params that hold a metric or knob name"));
  CHECK(contains(check("entry.lua", "{ 3 }"), "optional[1]: expected the name of a param, got number"));
  CHECK(contains(check("map.lua", "{ metric = true }"), "not a table with other keys"));
}

TEST_CASE("engine: params take config overrides, coerce durations and sizes, refuse unknown names") {
  TempDir dir;
  FakeHost host;
  std::string file = dir.write("params.lua", kParamsPolicy);
  {
    PolicyEngine engine(testLimits(), host);
    Status added = engine.add(specFor(file));
    REQUIRE_MESSAGE(added.ok(), errorOf(added));
    PolicyTickResult r = engine.tick("params", 1);
    REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
    CHECK(r.logs.at(0) == "params: integer 10 1.5 true x 100 1");
  }
  {
    PolicyEngine engine(testLimits(), host);
    Status added = engine.add(specFor(file, {{"threshold", 20.0},
                                             {"timeout", std::string("50ms")},
                                             {"limit", std::string("2GiB")},
                                             {"enabled", false},
                                             {"label", std::string("y")},
                                             {"nested", ParamMap{{"a", "app"}}}}));
    REQUIRE_MESSAGE(added.ok(), errorOf(added));
    PolicyTickResult r = engine.tick("params", 1);
    REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
    // A mapping replaces a table default whole (label matchers from the config).
    CHECK(r.logs.at(0) == "params: integer 20 0.05 false y 2147483648 app");
  }
  PolicyLimits limits = testLimits();
  auto failure = [&](std::map<std::string, ParamValue> params) {
    return errorOf(PolicyEngine::check(specFor(file, std::move(params)), limits));
  };
  CHECK(contains(failure({{"treshold", 1.0}}),
                 "params.treshold: unknown parameter of policy 'params' (did you mean 'threshold'?)"));
  CHECK(contains(failure({{"zzzzzzzz", 1.0}}), "(params: enabled label limit nested threshold timeout)"));
  CHECK(contains(failure({{"timeout", std::string("soon")}}),
                 "params.timeout: expected a number, a duration like 50ms or a size like 2GiB, got 'soon'"));
  CHECK(contains(failure({{"enabled", 1.0}}), "params.enabled: expected true or false"));
  CHECK(contains(failure({{"label", true}}), "params.label: expected a string"));
  CHECK(contains(failure({{"nested", 1.0}}), "params.nested: expected a mapping of names to values"));
  CHECK(contains(failure({{"threshold", ParamMap{{"a", "1"}}}}), "params.threshold: expected a number, got a mapping"));
  CHECK(contains(failure({{"label", ParamMap{{"a", "1"}}}}), "params.label: expected a string"));
  CHECK(contains(failure({{"threshold", true}}), "params.threshold: expected a number, got a boolean"));
  CHECK(contains(failure({{"label", 120.0}}), "params.label: expected a string, got the number 120 (quote it"));
  CHECK(contains(failure({{"enabled", std::string("yes")}}), "params.enabled: expected true or false, got 'yes'"));
  // Every bad param in one message, not only the first.
  const std::string all = failure({{"enabled", 1.0}, {"label", true}, {"treshold", 1.0}});
  CHECK_MESSAGE(contains(all, "params.enabled: expected true or false, got the number 1; "
                              "params.label: expected a string, got true; params.treshold: unknown parameter"),
                all);
}

TEST_CASE("engine: ctx.params is read-only and typos in it are errors") {
  TempDir dir;
  FakeHost host;
  PolicyLimits limits = testLimits();
  limits.quarantineAfterErrors = 0;  // never
  PolicyEngine engine(limits, host);
  REQUIRE(engine.add(specFor(dir.write("ro.lua", R"(return {
  name = 'ro',
  params = { threshold = 1 },
  tick = function(ctx)
    if ctx.now == 1 then ctx.params.threshold = 2 end
    if ctx.now == 2 then return ctx.params.treshold end
    if ctx.now == 3 then ctx.now = 5 end
    if ctx.now == 5 then rawset(ctx.params, 'threshold', 2) end
    if ctx.now == 6 then rawset(ctx, 'propose', print) end
    if ctx.now == 7 then
      local _, behind = pairs(ctx.params)  -- the table behind the proxy must not be reachable
      if type(behind) == 'table' then behind.threshold = 2 end
      ctx.log('threshold ' .. ctx.params.threshold)
      return
    end
    local n = 0
    for k, v in pairs(ctx.params) do n = n + 1 end
    ctx.log(n)
  end,
})"))).ok());
  CHECK(contains(errorOf(engine.tick("ro", 1).status), "ctx.params is read-only"));
  CHECK(contains(errorOf(engine.tick("ro", 2).status), "ctx.params.treshold: no such parameter"));
  CHECK(contains(errorOf(engine.tick("ro", 2).status), "(did you mean 'threshold'?)"));
  CHECK(contains(errorOf(engine.tick("ro", 3).status), "read-only"));
  // rawset cannot write under the proxies' __newindex either.
  CHECK(contains(errorOf(engine.tick("ro", 5).status), "rawset: the table is read-only"));
  CHECK(contains(errorOf(engine.tick("ro", 6).status), "rawset: the table is read-only"));
  PolicyTickResult walked = engine.tick("ro", 7);
  REQUIRE(walked.status.ok());
  CHECK(walked.logs.at(0) == "ro: threshold 1");
  PolicyTickResult fine = engine.tick("ro", 4);
  CHECK(fine.status.ok());
  CHECK(fine.logs.at(0) == "ro: 1");
  CHECK_FALSE(engine.quarantined("ro"));
}

TEST_CASE("engine: a policy failing repeatedly is quarantined; others run; reload lifts it") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string bad = dir.write("bad.lua", policyWithTick("bad", "    error('boom')"));
  REQUIRE(engine.add(specFor(bad)).ok());
  REQUIRE(engine.add(specFor(dir.write("good.lua", policyWithTick("good", "")))).ok());

  CHECK(contains(errorOf(engine.tick("bad", 1).status), bad + ":4: boom"));
  CHECK_FALSE(engine.quarantined("bad"));
  CHECK(engine.tick("bad", 2).status.ok() == false);
  std::string third = errorOf(engine.tick("bad", 3).status);
  CHECK(contains(third, "quarantined after 3 consecutive errors"));
  CHECK(engine.quarantined("bad"));
  CHECK(engine.quarantinedCount() == 1);
  std::string later = errorOf(engine.tick("bad", 4).status);
  CHECK(contains(later, "is quarantined after 3 consecutive errors"));
  CHECK(contains(later, "boom"));
  CHECK(engine.tick("good", 4).status.ok());

  dir.write("bad.lua", policyWithTick("bad", "    ctx.log('fixed')"));
  REQUIRE(engine.reload("bad").ok());
  CHECK_FALSE(engine.quarantined("bad"));
  CHECK(engine.quarantinedCount() == 0);
  PolicyTickResult fixed = engine.tick("bad", 5);
  CHECK(fixed.status.ok());
  CHECK(fixed.logs.at(0) == "bad: fixed");
}

TEST_CASE("engine: a success resets the count of consecutive errors") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  REQUIRE(engine.add(specFor(dir.write("flaky.lua", policyWithTick("flaky", "    if ctx.now % 3 ~= 0 then error('odd') end")))).ok());
  for (int t = 1; t <= 12; ++t) (void)engine.tick("flaky", t);
  CHECK_FALSE(engine.quarantined("flaky"));
}

TEST_CASE("engine: hot reload swaps in a good file, keeps state, and keeps the old version on failure") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string file = dir.write("counter.lua", policyWithTick("counter", R"(
    ctx.state.n = (ctx.state.n or 0) + 1
    ctx.state.list = ctx.state.list or {1, 2, {deep = 'yes'}}
    ctx.log('v1', ctx.state.n))"));
  REQUIRE(engine.add(specFor(file)).ok());
  CHECK(engine.changedPolicies().empty());
  CHECK(engine.tick("counter", 1).logs.at(0) == "counter: v1 1");
  CHECK(engine.tick("counter", 2).logs.at(0) == "counter: v1 2");

  // A syntax error: the old version keeps running, the failure is counted.
  dir.write("counter.lua", "return { name = 'counter', tick = function(ctx) if end }");
  touchLater(file, 10);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"counter"});
  Status failed = engine.reload("counter");
  CHECK(contains(errorOf(failed), file + ":1:"));
  CHECK(engine.reloadFailures() == 1);
  CHECK(engine.changedPolicies().empty());  // not retried until the file changes again
  CHECK(engine.tick("counter", 3).logs.at(0) == "counter: v1 3");

  // Same name: state carries over.
  dir.write("counter.lua", policyWithTick("counter", R"(
    ctx.state.n = ctx.state.n + 1
    ctx.log('v2', ctx.state.n, ctx.state.list[3].deep))"));
  touchLater(file, 20);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"counter"});
  REQUIRE_MESSAGE(engine.reload("counter").ok(), "reload");
  CHECK(engine.reloadFailures() == 1);
  CHECK(engine.tick("counter", 4).logs.at(0) == "counter: v2 4 yes");

  // Renamed: state starts empty.
  dir.write("counter.lua", policyWithTick("renamed", "    ctx.log('v3', tostring(ctx.state.n))"));
  touchLater(file, 30);
  REQUIRE(engine.reload("counter").ok());
  CHECK(engine.names() == std::vector<std::string>{"renamed"});
  CHECK(engine.tick("renamed", 5).logs.at(0) == "renamed: v3 nil");

  // A file that fails validation (not just syntax) also keeps the old version.
  dir.write("counter.lua", "return { name = 'renamed' }");
  touchLater(file, 40);
  CHECK(contains(errorOf(engine.reload("renamed")), "has no tick(ctx) function"));
  CHECK(engine.reloadFailures() == 2);
  CHECK(engine.tick("renamed", 6).status.ok());
}

TEST_CASE("engine: reload refuses a name another policy already has") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string a = dir.write("a.lua", policyWithTick("a", ""));
  REQUIRE(engine.add(specFor(a)).ok());
  REQUIRE(engine.add(specFor(dir.write("b.lua", policyWithTick("b", "")))).ok());
  dir.write("a.lua", policyWithTick("b", ""));
  CHECK(contains(errorOf(engine.reload("a")), "policy name 'b' is already used"));
  CHECK(engine.reloadFailures() == 1);
  CHECK(engine.names() == std::vector<std::string>{"a", "b"});
}

TEST_CASE("engine: ctx.state must stay plain data") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  REQUIRE(engine.add(specFor(dir.write("s.lua", policyWithTick("s", R"(
    if ctx.now == 1 then ctx.state.ok = {1, 'two', {three = true}} end
    if ctx.now == 2 then ctx.state.handler = {fn = print} end)")))).ok());
  CHECK(engine.tick("s", 1).status.ok());
  CHECK(contains(errorOf(engine.tick("s", 2).status), "ctx.state.handler.fn: a function is not plain data"));
}

TEST_CASE("engine: a cyclic ctx.state is refused") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  REQUIRE(engine.add(specFor(dir.write("c.lua", policyWithTick("c", R"(
    local t = {} ; t.self = t ; ctx.state.loop = t)")))).ok());
  CHECK(contains(errorOf(engine.tick("c", 1).status), "nested too deeply"));
}

TEST_CASE("engine: every shipped policy under policies/ compiles") {
  int checked = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(TRIMTAB_SOURCE_DIR "/policies")) {
    if (entry.path().extension() != ".lua") continue;
    if (entry.path().filename().string().ends_with("_test.lua")) continue;  // `trimtab test` cases
    if (entry.path().parent_path().filename() == "lib") continue;  // library modules, loaded by require
    Status status = PolicyEngine::check(specFor(entry.path().string()), PolicyLimits{});
    CHECK_MESSAGE(status.ok(), errorOf(status));
    ++checked;
  }
  CHECK(checked >= 2);
}

TEST_CASE("example pool_from_queue: grows under waits, shrinks when calm") {
  FakeHost host;
  KnobState& pool = host.addKnob("db_pool_size", 10, 5, 50);
  pool.spec.maxStep = 2;
  PolicyEngine engine(testLimits(), host);
  Status added = engine.add(specFor(TRIMTAB_SOURCE_DIR "/policies/examples/pool_from_queue.lua",
                                    {{"target_wait", std::string("50ms")}, {"calm", std::string("1m")}}));
  REQUIRE_MESSAGE(added.ok(), errorOf(added));
  CHECK(engine.interval("pool_from_queue") == 5);
  for (int t = 0; t <= 50; t += 10) {
    host.scrape(t, {{"db_pool_wait_seconds", {{"route", "/api"}}, 0.2}, {"db_pool_wait_seconds", {{"route", "/x"}}, 9}});
  }
  PolicyTickResult busy = engine.tick("pool_from_queue", 50);
  REQUIRE_MESSAGE(busy.status.ok(), errorOf(busy.status));
  REQUIRE(busy.proposals.size() == 1);
  CHECK(busy.proposals[0].value == 12);
  CHECK(busy.proposals[0].reason == "p90 wait 200 ms > target 50 ms");
  CHECK(busy.proposals[0].inputs.at(0).what == "quantile(0.9, db_pool_wait_seconds{route=\"/api\"}[60s])");

  for (int t = 60; t <= 200; t += 10) host.scrape(t, {{"db_pool_wait_seconds", {{"route", "/api"}}, 0}});
  PolicyTickResult calm = engine.tick("pool_from_queue", 200);
  REQUIRE(calm.proposals.size() == 1);
  CHECK(calm.proposals[0].value == 9);
  CHECK(calm.proposals[0].reason == "no wait above 50 ms for 150 s");
}

TEST_CASE("engine: a tick's duration is measured only when the engine is timed") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  // A tick long enough for any clock: 20,000 loop turns.
  REQUIRE(engine.add(specFor(dir.write("busy.lua", R"(return { name = 'busy', tick = function(ctx)
    local x = 0
    for i = 1, 20000 do x = x + i end
    ctx.state.x = x
  end })"))).ok());
  PolicyTickResult timed = engine.tick("busy", 1);
  REQUIRE(timed.status.ok());
  CHECK(timed.duration > 0);
  engine.setTimed(false);
  PolicyTickResult untimed = engine.tick("busy", 2);
  REQUIRE(untimed.status.ok());
  CHECK(untimed.duration == 0);
}

TEST_CASE("engine: unknown policies are errors, not crashes") {
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  CHECK(contains(errorOf(engine.tick("ghost", 1).status), "unknown policy 'ghost'"));
  CHECK(contains(errorOf(engine.reload("ghost")), "unknown policy 'ghost'"));
  CHECK(engine.interval("ghost") == 0);
  CHECK_FALSE(engine.quarantined("ghost"));
}

}  // namespace trimtab::test
