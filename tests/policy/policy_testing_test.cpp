// SPDX-License-Identifier: Apache-2.0
// `trimtab test`'s runner: discovery, cases, expectations, messages.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "policy/testing/policy_test_runner.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

// Grows knob k by one while x is above the limit; remembers when it last did.
const char* kGrowPolicy = R"(return {
  name = "grow",
  interval = "10s",
  params = { limit = 10, metric = "x" },
  tick = function(ctx)
    local v = ctx.value(ctx.params.metric)
    local k = ctx.knob("k")
    if not (v and k) then return end
    if v > ctx.params.limit then
      ctx.state.grew_at = ctx.now
      ctx.propose("k", k.value + 1, "x is high")
    else
      ctx.log(string.format("x=%g is fine", v))
    end
  end,
}
)";

PolicyTestReport runIn(const TempDir& dir, std::vector<std::string> extra = {}) {
  PolicyTestOptions options;
  options.paths = {dir.path().string()};
  for (auto& e : extra) options.paths.push_back(e);
  return runPolicyTests(options);
}

std::string allFailures(const PolicyTestReport& r) {
  std::string out;
  for (const auto& f : r.failures) out += f + "\n";
  return out;
}

}  // namespace

TEST_CASE("policy tests: a passing case passes, a failing one names expected, actual and the policy's line") {
  TempDir dir;
  std::string policy = dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  {
    name = "grows when x is high",
    values = { x = 12 },
    knobs = { k = 5 },
    expect = { proposals = { k = 6 } },
  },
  {
    name = "wrongly expects 7",
    values = { x = 12 },
    knobs = { k = 5 },
    expect = { proposals = { k = 7 } },
  },
}
)");
  PolicyTestReport r = runIn(dir);
  CHECK(r.passed == 1);
  REQUIRE(r.failed() == 1);
  std::string test = (dir.path() / "grow_test.lua").string();
  CHECK(r.failures[0] == test + ":9: case \"wrongly expects 7\": expected proposal k=7, got k=6 (" + policy + ":11)");
  CHECK(r.exitCode() == 1);

  std::ostringstream out;
  printPolicyTestReport(r, PolicyTestOptions{}, out);
  CHECK(out.str() == "FAIL " + r.failures[0] + "\n1 passed, 1 failed\n");
}

TEST_CASE("policy tests: no proposal, ranges, reasons, logs, params, knobs after the governor") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  { name = "quiet", values = { x = 3 }, knobs = { k = 5 },
    expect = { no_proposal = true, log = "x=3 is fine" } },
  { name = "range and reason", values = { x = 30 }, knobs = { k = 5 },
    expect = { proposals = { k = { min = 5, max = 9, reason = "high$" } } } },
  { name = "params from the case", params = { limit = 50, metric = "y" }, values = { y = 30 }, knobs = { k = 5 },
    expect = { no_proposal = true } },
  { name = "the governor clamps", values = { x = 30 }, knobs = { k = { value = 5, max = 5 } },
    expect = { proposals = { k = 6 }, knobs = { k = 5 } } },
  { name = "no data, no proposal", knobs = { k = 5 }, expect = { no_proposal = true } },
}
)");
  PolicyTestReport r = runIn(dir);
  CHECK_MESSAGE(r.failed() == 0, allFailures(r));
  CHECK(r.passed == 5);
}

TEST_CASE("policy tests: each kind of mismatch is reported") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  { name = "a", values = { x = 30 }, knobs = { k = 5 }, expect = { no_proposal = true } },
  { name = "b", values = { x = 3 }, knobs = { k = 5 }, expect = { proposals = { k = 6 } } },
  { name = "c", values = { x = 30 }, knobs = { k = 5 }, expect = { proposals = { k = { reason = "low" } } } },
  { name = "d", values = { x = 3 }, knobs = { k = 5 }, expect = { log = "nothing like this" } },
  { name = "e", values = { x = 30 }, knobs = { k = 5 }, expect = { state = { grew_at = 1 } } },
  { name = "f", values = { x = 30 }, knobs = { k = { value = 5, max = 5 } }, expect = { proposals = { k = 6 }, knobs = { k = 6 } } },
  { name = "g", values = { x = 30 }, knobs = { k = 5 }, expect = { error = "boom" } },
  { name = "h", values = { x = 30 }, knobs = { k = 5 }, expect = { proposals = {} } },
  { name = "i", values = { x = 30 }, knobs = { k = 5 }, expect = { state_nil = "grew_at" } },
  { name = "j", values = { x = 3 }, knobs = { k = 5 }, expect = { log = "%" } },
}
)");
  PolicyTestReport r = runIn(dir);
  REQUIRE(r.failed() == 10);
  auto has = [&](std::size_t i, const std::string& text) {
    CHECK_MESSAGE(contains(r.failures[i], text), r.failures[i]);
  };
  has(0, "case \"a\": expected no proposal, got k=6 (");
  has(1, "case \"b\": expected proposal k=6, got no proposal");
  has(2, "expected proposal k (any value) with a reason matching 'low', got reason 'x is high'");
  has(3, "expected a log line matching 'nothing like this', got 'grow: x=3 is fine'");
  has(4, "state.grew_at: expected 1, got 0");
  has(5, "expected knob k=6 after the governor, got 5 (unchanged: clamped to max 5");
  has(6, "expected the tick to fail with an error matching 'boom', it succeeded");
  has(7, "unexpected proposal k=6");
  has(8, "expected state.grew_at to be nil, got 0");
  has(9, "pattern '%': malformed pattern");
  // What the tick saw follows a failed expectation: its log lines (when the
  // case did not already compare them).
  has(1, "; it logged 'grow: x=3 is fine'");
  CHECK_MESSAGE(!contains(r.failures[3], "it logged"), r.failures[3]);
}

TEST_CASE("policy tests: a policy that does not compile is one failure, not one per case") {
  TempDir dir;
  dir.write("broken.lua", "return { name = 'broken', tick = function(ctx) ctx.propose( end }\n");
  dir.write("broken_test.lua", R"(return {
  { name = "a", expect = { no_proposal = true } },
  { name = "b", expect = { no_proposal = true } },
  { name = "c", expect = { no_proposal = true } },
}
)");
  PolicyTestReport r = runIn(dir);
  REQUIRE(r.failed() == 1);
  CHECK_MESSAGE(contains(r.failures[0], "broken.lua: the policy does not load: "), r.failures[0]);
  CHECK_MESSAGE(contains(r.failures[0], "broken.lua:1: unexpected symbol"), r.failures[0]);
}

TEST_CASE("policy tests: a failed case names the reads that found no data") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  { name = "misspelt", params = { metric = "xx" }, values = { x = 30 }, knobs = { k = 5 }, expect = { proposals = { k = 6 } } },
  { name = "fine", params = { metric = "xx" }, values = { x = 30 }, knobs = { k = 5 }, expect = { no_proposal = true } },
  { name = "knob", values = { x = 30 }, knobs = { kk = 5 }, expect = { proposals = { kk = 6 } } },
}
)");
  PolicyTestReport r = runIn(dir);
  REQUIRE(r.failed() == 2);
  CHECK_MESSAGE(contains(r.failures[0], "expected proposal k=6, got no proposal; no data for xx"), r.failures[0]);
  // ctx.knob() of a knob the case does not give answers nil: named too.
  CHECK_MESSAGE(contains(r.failures[1], "expected proposal kk=6, got no proposal; no data for knob(k)"), r.failures[1]);
}

TEST_CASE("policy tests: steps advance the clock, keep state and move knobs") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  {
    name = "grows twice then rests",
    now = 100,
    knobs = { k = 5 },
    series = { { metric = "x", points = { {100, 20}, {110, 20}, {120, 1} } } },
    steps = {
      { expect = { proposals = { k = 6 }, state = { grew_at = 100 } } },
      { expect = { proposals = { k = 7 }, state = { grew_at = 110 }, knobs = { k = 7 } } },
      { advance = "10s", expect = { no_proposal = true, state = { grew_at = 110 } } },
      { at = 200, values = { x = 99 }, expect = { proposals = { k = 8 }, state = { grew_at = 200 } } },
    },
  },
  {
    name = "a wrong step is named with its time",
    now = 100,
    knobs = { k = 5 },
    series = { { metric = "x", points = { {100, 20}, {110, 20} } } },
    steps = {
      { expect = { proposals = { k = 6 } } },
      { expect = { proposals = { k = 6 } } },
    },
  },
}
)");
  PolicyTestReport r = runIn(dir);
  CHECK(r.passed == 1);
  REQUIRE(r.failed() == 1);
  CHECK_MESSAGE(contains(r.failures[0], "case \"a wrong step is named with its time\": step 2 (t=110): "
                                        "expected proposal k=6, got k=7"),
                r.failures[0]);
}

TEST_CASE("policy tests: a step's value for a series the case gives at the same time wins") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  dir.write("grow_test.lua", R"(return {
  {
    name = "the step's value overrides the series point",
    now = 100,
    knobs = { k = 5 },
    series = { { metric = "x", points = { {100, 1}, {110, 1} } } },
    steps = {
      { expect = { no_proposal = true } },
      { values = { x = 99 }, expect = { proposals = { k = 6 } } },
    },
  },
}
)");
  PolicyTestReport r = runIn(dir);
  CHECK_MESSAGE(r.passed == 1, allFailures(r));
}

TEST_CASE("policy tests: counters, labels, windows and CSV inputs reach the store with their times") {
  TempDir dir;
  dir.write("rate.lua", R"(return {
  name = "rate",
  tick = function(ctx)
    local r = ctx.rate("req_total", { route = "/api" }, "1m")
    local w = ctx.window("mem", nil, "5m")
    if r and w then ctx.propose("k", r * 1000 + w.count) end
  end,
}
)");
  dir.write("data/mem.csv", "time,value\n# a comment\n0,1\n60,2\n\n120,3\n");
  dir.write("rate_test.lua", R"(local points = {}
for t = 0, 120, 10 do points[#points + 1] = {t, t * 2} end
return {
  {
    name = "rate over a minute, three points of memory",
    knobs = { k = { value = 0, integer = false } },
    series = {
      { metric = "req_total", labels = { route = "/api" }, points = points },
      { metric = "req_total", labels = { route = "/other" }, points = { {120, 1e6} } },
      { metric = "mem", csv = "data/mem.csv" },
    },
    expect = { proposals = { k = 2003 } },
  },
}
)");
  PolicyTestReport r = runIn(dir);
  CHECK_MESSAGE(r.failed() == 0, allFailures(r));
  CHECK(r.passed == 1);
}

TEST_CASE("policy tests: malformed test files fail with file:line and a clear message") {
  TempDir dir;
  dir.write("grow.lua", kGrowPolicy);
  auto failureOf = [&](const std::string& text) {
    dir.write("grow_test.lua", text);
    PolicyTestReport r = runIn(dir);
    REQUIRE(r.failed() == 1);
    return r.failures[0];
  };
  std::string test = (dir.path() / "grow_test.lua").string();
  CHECK(failureOf("return {\n  { name = 'x', expect = {} \n}") .starts_with(test + ":3:"));
  CHECK(contains(failureOf("return 42"), "a test file returns a list of cases"));
  std::string typo = failureOf("return {\n  {\n    name = 'typo',\n    knobs = { k = 1 },\n    expectt = {},\n  },\n}\n");
  CHECK_MESSAGE(typo == test + ":5: case \"typo\": unknown field 'expectt' (did you mean 'expect'?)", typo);
  CHECK(contains(failureOf("return { { name = 'n' } }"), "expect = {...} (or steps = {...}) is missing"));
  CHECK(contains(failureOf("return { { expect = {} } }"), "case #1: needs name"));
  CHECK(contains(failureOf("return { { name = 'p', series = { { metric = 'x', points = { {1} } } }, expect = {} } }"),
                 "points: expected {time, value} pairs of numbers"));
  CHECK(contains(failureOf("return { { name = 'c', series = { { metric = 'x', csv = 'missing.csv' } }, expect = {} } }"),
                 "missing.csv: cannot read"));
  CHECK(contains(failureOf("return { { name = 'd', now = 'soon', expect = {} } }"), "now: "));
  CHECK(contains(failureOf("return { { name = 'e', expect = { proposals = { k = 'x' } } } }"),
                 "proposals.k: expected a number"));
  CHECK(contains(failureOf("return { { name = 'same', expect = {} }, { name = 'same', expect = {} } }"),
                 "a case with this name comes earlier"));
  CHECK(contains(failureOf("return { { name = 'f', params = { t = {1} }, expect = {} } }"),
                 "params.t: a table cannot be set"));
  CHECK(contains(failureOf("return { { name = 'g', predictions = { eta = 10 }, expect = {} } }"),
                 "predictions: canned answers are not supported yet"));
  CHECK(contains(failureOf("return { { name = 'h', params = { nope = 1 }, expect = {} } }"),
                 "the policy does not load: " ));
  CHECK(contains(failureOf("return { { name = 'i', steps = { { at = 10, expect = {} }, { at = 5, expect = {} } } } }"),
                 "step 2 (t=5): goes back in time"));
  CHECK(contains(failureOf("while true do end"), "CPU budget"));
  CHECK(contains(failureOf("return { { name = 'j', knobs = { k = { value = 5, min = 10, max = 1 } }, expect = {} } }"),
                 "knobs.k: min (10) is above max (1)"));
  // Expectations that would check nothing are refused.
  CHECK(contains(failureOf("return { { name = 'k', expect = { no_proposal = false } } }"),
                 "no_proposal: expected true (false would check nothing"));
  CHECK(contains(failureOf("return { { name = 'l', expect = { proposals = { k = 0/0 } } } }"),
                 "proposals.k: NaN never matches a proposal"));
  CHECK(contains(failureOf("return { { name = 'm', expect = { proposals = { k = { min = 0/0 } } } } }"),
                 "proposals.k.min: NaN never matches a proposal"));
  CHECK(contains(failureOf("return { { name = 'n', steps = { { at = 10, expect = {} }, { at = 20 } } } }"),
                 "step 2: expect = {...} is missing"));
}

TEST_CASE("policy tests: a NaN proposal is within no range; true (any value) matches it") {
  TempDir dir;
  dir.write("nan.lua", R"(return {
  name = "nan",
  tick = function(ctx) ctx.propose("k", 0/0, "not a number") end,
}
)");
  dir.write("nan_test.lua", R"(return {
  { name = "range", knobs = { k = 5 }, expect = { proposals = { k = { min = 0, max = 10 } } } },
  { name = "min", knobs = { k = 5 }, expect = { proposals = { k = { min = 0 } } } },
  { name = "any", knobs = { k = 5 }, expect = { proposals = { k = true } } },
}
)");
  PolicyTestReport r = runIn(dir);
  REQUIRE_MESSAGE(r.failed() == 2, allFailures(r));
  CHECK_MESSAGE(contains(r.failures[0], "case \"range\": expected proposal k in [0, 10], got k=nan"), r.failures[0]);
  CHECK_MESSAGE(contains(r.failures[1], "case \"min\""), r.failures[1]);
}

TEST_CASE("policy tests: a policy without tests, a test without policy, a missing path") {
  TempDir dir;
  std::string lonely = dir.write("sub/lonely.lua", kGrowPolicy);
  std::string orphan = dir.write("sub/orphan_test.lua", "return {}");
  dir.write(".hidden/skipped.lua", "this is not Lua");
  PolicyTestReport r = runIn(dir, {(dir.path() / "nowhere").string()});
  std::string all = allFailures(r);
  CHECK_MESSAGE(r.failed() == 3, all);
  CHECK(contains(all, lonely + ": no tests (write " + (dir.path() / "sub/lonely_test.lua").string() + " beside it)"));
  CHECK(contains(all, orphan + ": no policy " + (dir.path() / "sub/orphan.lua").string() + " beside it"));
  CHECK(contains(all, "nowhere: no such file or directory"));
  CHECK(r.passed == 0);
  std::ostringstream out;
  printPolicyTestReport(r, PolicyTestOptions{}, out);
  CHECK(contains(out.str(), "\n0 passed, 3 failed\n"));
}

TEST_CASE("policy tests: a single file path runs that policy's tests; a broken tick is a failure") {
  TempDir dir;
  std::string policy = dir.write("broken.lua", "return { name = 'broken', tick = function(ctx)\n  local x = nil\n  return x.y\nend }");
  dir.write("broken_test.lua", R"(return {
  { name = "fails", expect = { no_proposal = true } },
  { name = "expected to fail", expect = { error = "attempt to index a nil value" } },
})");
  PolicyTestOptions options;
  options.paths = {policy};
  PolicyTestReport r = runPolicyTests(options);
  CHECK(r.passed == 1);
  REQUIRE(r.failed() == 1);
  CHECK_MESSAGE(contains(r.failures[0], "case \"fails\": the tick failed: " + policy + ":3: attempt to index"), r.failures[0]);
}

}  // namespace trimtab::test

namespace trimtab::test {

// The shipped reference rules, in process (so the sanitizer builds run them
// too; CTest's policy_tests runs every shipped policy through the binary).
TEST_CASE("policy tests: the reference policies pass and cover every line") {
  PolicyTestOptions options;
  options.paths = {TRIMTAB_SOURCE_DIR "/policies/reference"};
  options.minCoverage = 90;
  PolicyTestReport r = runPolicyTests(options);
  CHECK_MESSAGE(r.failed() == 0, allFailures(r));
  CHECK(r.passed >= 9);
  CHECK(r.coverage.size() >= 9);
}

}  // namespace trimtab::test
