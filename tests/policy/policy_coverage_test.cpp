// SPDX-License-Identifier: Apache-2.0
// Line coverage: the executable line set, the hook beside the CPU
// budget, counts, lcov output.
#include <doctest/doctest.h>

#include <lua.hpp>
#include <cstring>
#include <set>
#include <string>

#include "policy/testing/chunk_lines.h"
#include "policy/testing/line_coverage.h"
#include "policy/testing/policy_test_runner.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

// Line numbers matter below.
const char* kTinyPolicy = R"(-- tiny: line 1 is a comment
return {
  name = "tiny",
  params = { limit = 10 },
  tick = function(ctx)
    local v = ctx.value("x")
    if not v then return end
    if v > ctx.params.limit then
      ctx.propose("k", v)
    else
      ctx.log("low", v)
    end
  end,
}
)";

// lua_getinfo(">L") of the function on top of L, as a set.
std::set<int> activeLines(lua_State* L) {
  lua_Debug ar;
  lua_pushvalue(L, -1);
  lua_getinfo(L, ">L", &ar);
  std::set<int> lines;
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lines.insert(static_cast<int>(lua_tointeger(L, -2)));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return lines;
}

class CountingObserver : public LineObserver {
 public:
  void onLine(const char* source, int line) override {
    if (std::string(source) == "=test") lines.insert(line);
  }
  std::set<int> lines;
};

int runChunk(lua_State* L) {
  auto* text = static_cast<const char*>(lua_touserdata(L, 1));
  if (luaL_loadbufferx(L, text, std::strlen(text), "=test", "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 0);
  return 0;
}

}  // namespace

TEST_CASE("coverage: executable lines match Lua's own active lines, nested functions included") {
  Result<std::vector<int>> lines = executableLinesOfText(kTinyPolicy, "tiny.lua");
  REQUIRE(lines.ok());
  std::set<int> dumped(lines->begin(), lines->end());

  // Lua's view: the main chunk and tick (reachable once the chunk ran).
  lua_State* L = luaL_newstate();
  REQUIRE(luaL_loadbufferx(L, kTinyPolicy, std::strlen(kTinyPolicy), "@tiny.lua", "t") == LUA_OK);
  std::set<int> active = activeLines(L);
  REQUIRE(lua_pcall(L, 0, 1, 0) == LUA_OK);
  lua_getfield(L, -1, "tick");
  std::set<int> tick = activeLines(L);
  lua_close(L);
  active.insert(tick.begin(), tick.end());
  // The main chunk's VARARGPREP (line 1 here) is never reported by the hook.
  active.erase(1);
  CHECK(dumped == active);
  CHECK(dumped.count(9) == 1);
  CHECK(dumped.count(1) == 0);
  CHECK(dumped.count(10) == 0);  // `else` holds no instruction

  // A closure that tick never creates still has its lines counted.
  const char* nested = "return function()\n  if false then\n    local f = function()\n      return 42\n    end\n  end\nend\n";
  Result<std::vector<int>> inner = executableLinesOfText(nested, "nested.lua");
  REQUIRE(inner.ok());
  CHECK(std::set<int>(inner->begin(), inner->end()).count(4) == 1);

  CHECK(contains(executableLinesOfText("return {", "bad.lua").error().message, "bad.lua:1:"));
  CHECK(contains(executableLines("/nonexistent/x.lua").error().message, "cannot read"));
}

TEST_CASE("coverage: the line hook coexists with the CPU budget") {
  CountingObserver observer;
  auto sandbox = LuaSandbox::create(0.02, 8u << 20);
  REQUIRE(sandbox.ok());
  (*sandbox)->setLineObserver(&observer);
  const char* fine = "local x = 0\nfor i = 1, 10 do\n  x = x + i\nend\n";
  REQUIRE((*sandbox)->run(runChunk, const_cast<char*>(fine)).ok());
  CHECK(observer.lines == std::set<int>{1, 2, 3, 4});

  const char* forever = "local n = 0\nwhile true do\n  n = n + 1\nend\n";
  Status spun = (*sandbox)->run(runChunk, const_cast<char*>(forever));
  REQUIRE_FALSE(spun.ok());
  CHECK(contains(spun.error().message, "CPU budget of 20ms exceeded"));

  // Off again: no more lines.
  (*sandbox)->setLineObserver(nullptr);
  observer.lines.clear();
  REQUIRE((*sandbox)->run(runChunk, const_cast<char*>(fine)).ok());
  CHECK(observer.lines.empty());
}

TEST_CASE("coverage: counts per policy, uncovered lines, minimum and lcov") {
  TempDir dir;
  std::string policy = dir.write("tiny.lua", kTinyPolicy);
  std::string test = dir.write("tiny_test.lua", R"(return {
  { name = "low", values = { x = 1 }, knobs = { k = 0 }, expect = { no_proposal = true, log = "low" } },
  { name = "low again", values = { x = 2 }, knobs = { k = 0 }, expect = { no_proposal = true } },
})");
  PolicyTestOptions options;
  options.paths = {dir.path().string()};
  options.coverage = true;
  PolicyTestReport r = runPolicyTests(options);
  CHECK(r.failed() == 0);
  REQUIRE(r.coverage.size() == 1);
  const PolicyCoverageReport& c = r.coverage[0];
  CHECK(c.policy == policy);
  CHECK(c.uncovered == "9");
  CHECK(c.covered + 1 == c.executable);
  CHECK(c.percent == doctest::Approx(100.0 * static_cast<double>(c.covered) / static_cast<double>(c.executable)));

  // lcov: one record, line 9 never hit, line 11 hit twice (once per case), line 2 hit at each load.
  CHECK(contains(r.lcov, "TN:\nSF:" + policy + "\n"));
  CHECK(contains(r.lcov, "\nDA:9,0\n"));
  CHECK(contains(r.lcov, "\nDA:11,2\n"));
  CHECK(contains(r.lcov, "\nDA:2,2\n"));
  CHECK(contains(r.lcov, "\nLF:" + std::to_string(c.executable) + "\nLH:" + std::to_string(c.covered) +
                             "\nend_of_record\n"));
  CHECK_FALSE(contains(r.lcov, "\nDA:1,"));

  options.minCoverage = 99;
  PolicyTestReport strict = runPolicyTests(options);
  REQUIRE(strict.failed() == 1);
  CHECK(contains(strict.failures[0], policy + ": line coverage "));
  CHECK(contains(strict.failures[0], "is under the minimum of 99.0% (uncovered: 9)"));

  // Covering the other branch too: 100 %.
  dir.write("tiny_test.lua", R"(return {
  { name = "low", values = { x = 1 }, knobs = { k = 0 }, expect = { no_proposal = true } },
  { name = "high", values = { x = 11 }, knobs = { k = 0 }, expect = { proposals = { k = 11 } } },
})");
  PolicyTestReport full = runPolicyTests(options);
  CHECK(full.failed() == 0);
  REQUIRE(full.coverage.size() == 1);
  CHECK(full.coverage[0].percent == 100);
  CHECK(full.coverage[0].uncovered.empty());
  (void)test;
}

TEST_CASE("coverage: library modules are no policies; their lines count where policies run them") {
  TempDir dir;
  std::string lib = dir.write("lib/helper.lua", R"(local M = {}
function M.used(x) return x + 1 end
function M.unused(x)
  return x - 1
end
return M
)");
  std::string policy = dir.write("p.lua", R"(local helper = require("helper")
return { name = "p", tick = function(ctx) ctx.propose("k", helper.used(ctx.value("x"))) end }
)");
  dir.write("p_test.lua", R"(return {
  { name = "adds one", values = { x = 1 }, knobs = { k = 0 }, expect = { proposals = { k = 2 } } },
})");
  PolicyTestOptions options;
  options.paths = {dir.path().string()};
  options.coverage = true;
  PolicyTestReport r = runPolicyTests(options);
  CHECK_MESSAGE(r.failed() == 0, (r.failures.empty() ? "" : r.failures[0]));  // no "no tests" for the module
  CHECK(r.passed == 1);
  REQUIRE(r.coverage.size() == 2);
  CHECK(r.coverage[0].policy == lib);  // by file name
  CHECK(r.coverage[1].policy == policy);
  CHECK(r.coverage[0].uncovered == "4");
  CHECK(r.coverage[1].percent == 100);
  CHECK(contains(r.lcov, "SF:" + lib + "\n"));
  CHECK(contains(r.lcov, "SF:" + lib + "\nDA:1,1\nDA:2,2\nDA:3,1\nDA:4,0\n"));  // line 2: defined, then run

  // A module no tested policy requires is dead code: it fails a minimum.
  std::string orphan = dir.write("lib/orphan.lua", "return { f = function() return 1 end }\n");
  options.minCoverage = 50;
  PolicyTestReport strict = runPolicyTests(options);
  REQUIRE(strict.failed() == 1);
  CHECK(contains(strict.failures[0], "lib/orphan.lua: line coverage 0.0% is under the minimum of 50.0%"));

  // Testing the policy alone: the module it uses is reported (under the name
  // it is loaded by), the one beside it that nothing ran is not.
  options.paths = {policy};
  PolicyTestReport alone = runPolicyTests(options);
  CHECK(alone.failed() == 0);
  REQUIRE(alone.coverage.size() == 2);
  CHECK(alone.coverage[0].policy == lib);
  CHECK(alone.coverage[1].policy == policy);
  CHECK_FALSE(contains(alone.lcov, orphan));

  // A module alone: nothing to test, and it says why.
  options.paths = {lib};
  PolicyTestReport module = runPolicyTests(options);
  REQUIRE(module.failed() >= 1);
  CHECK(contains(module.failures[0], lib + ": no policy to test: library modules are tested through the policies"));

  // A test file for a module: no policy to test, whichever way it is named.
  std::string moduleTest = dir.write("lib/helper_test.lua", "return {}\n");
  options.paths = {moduleTest};
  PolicyTestReport direct = runPolicyTests(options);
  REQUIRE(direct.failed() == 1);
  CHECK(contains(direct.failures[0], moduleTest + ": a library module has no test file of its own"));
  options.paths = {dir.path().string()};
  options.minCoverage = 0;
  PolicyTestReport walked = runPolicyTests(options);
  REQUIRE(walked.failed() == 1);
  CHECK(contains(walked.failures[0], moduleTest + ": a library module has no test file of its own"));
}

TEST_CASE("coverage: ranges") {
  CHECK(LineCoverage::ranges({}).empty());
  CHECK(LineCoverage::ranges({17}) == "17");
  CHECK(LineCoverage::ranges({17, 23, 24, 25, 30, 31}) == "17, 23-25, 30-31");
}

}  // namespace trimtab::test
