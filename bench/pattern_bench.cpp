// SPDX-License-Identifier: Apache-2.0
// The sandbox's pattern functions (src/policy/lua_pattern.cpp) against Lua's
// own on the same calls, in one run: the price of matching that the CPU
// budget can stop. Compare each Bounded row with its Lua row as a ratio.
#include <benchmark/benchmark.h>

#include <lua.hpp>

#include "policy/lua_pattern.h"

namespace trimtab {
namespace {

bool neverStop(lua_State*) { return false; }
int cannotRaise(lua_State* L) { return luaL_error(L, "unexpected stop"); }
const LoopBudget kUnlimited{&neverStop, &cannotRaise};

// What policies do with patterns: split labels and log lines, parse
// durations, find a word, tidy whitespace.
const char kSetup[] = R"lua(
  text = ("key_%d=value_%d  "):rep(1):format(1, 2):rep(200)
  durations = {"250ms", "5s", "2m", "1h", "30"}
  function work()
    local n = 0
    for k, v in text:gmatch("(%w+)=(%w+)") do n = n + 1 end
    n = n + select(2, text:gsub("%s+", " "))
    n = n + (text:find("value_9", 1, true) or 0) + (text:find("v%a+_%d+%s*$") or 0)
    for _, d in ipairs(durations) do
      local num, unit = d:match("^([%d.]+)(%a*)$")
      n = n + #unit
    end
    return n
  end
)lua";

void run(benchmark::State& state, bool bounded) {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  if (bounded) {
    lua_getglobal(L, "string");
    installBoundedPatterns(L, -1, &kUnlimited);
    lua_pop(L, 1);
  }
  if (luaL_dostring(L, kSetup) != LUA_OK) state.SkipWithError(lua_tostring(L, -1));
  for (auto _ : state) {
    lua_getglobal(L, "work");
    lua_call(L, 0, 1);
    benchmark::DoNotOptimize(lua_tointeger(L, -1));
    lua_pop(L, 1);
  }
  lua_close(L);
}

void BM_PatternsLua(benchmark::State& state) { run(state, false); }
void BM_PatternsBounded(benchmark::State& state) { run(state, true); }
BENCHMARK(BM_PatternsLua);
BENCHMARK(BM_PatternsBounded);

}  // namespace
}  // namespace trimtab

BENCHMARK_MAIN();
