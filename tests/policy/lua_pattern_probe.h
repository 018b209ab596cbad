// SPDX-License-Identifier: Apache-2.0
// One probe of every pattern function (find, plain find, match, gmatch,
// gsub with string, table and function replacements, the method form) on a
// subject, a pattern and an init, printed one result or error per line. The
// unit test and the fuzz target (tests/fuzz/lua_pattern_fuzz.cpp) compare
// its output between Lua's own functions and the sandbox's bounded ones.
#pragma once

#include <lua.hpp>

#include <stdexcept>
#include <string>

#include "policy/lua_budget.h"
#include "policy/lua_pattern.h"

namespace trimtab::testing {

inline constexpr char kPatternProbe[] = R"lua(
local function show(...)
  local out = {}
  for i = 1, select("#", ...) do
    local v = select(i, ...)
    out[#out + 1] = type(v) .. ":" .. tostring(v)
  end
  return table.concat(out, ",")
end
local function try(f, ...)
  local r = table.pack(pcall(f, ...))
  if not r[1] then return "error:" .. tostring(r[2]) end
  return show(table.unpack(r, 2, r.n))
end
local function all(s, p, init)
  local found, n = {}, 0
  for a, b in string.gmatch(s, p, init) do
    n = n + 1
    found[#found + 1] = show(a, b)
    if n > 100 then break end
  end
  return table.concat(found, ";")
end
local replacements = {a = "A", ab = false, b = 7, [""] = "E"}
local function call(a, b)
  if a == "b" then return nil end
  return "(" .. tostring(a) .. "|" .. tostring(b) .. ")"
end
function probe(s, p, init)
  return table.concat({
    try(string.find, s, p, init),
    try(string.find, s, p, init, true),
    try(string.match, s, p, init),
    try(all, s, p, init),
    try(string.gsub, s, p, "<%0>"),
    try(string.gsub, s, p, "[%1|%2]"),
    try(string.gsub, s, p, "%%x", 2),
    try(string.gsub, s, p, "bad%q"),
    try(string.gsub, s, p, replacements),
    try(string.gsub, s, p, call),
    try(function() return s:match(p) end),
  }, "\n")
end
)lua";

inline bool neverStop(lua_State*) { return false; }
inline int cannotRaise(lua_State* L) { return luaL_error(L, "unexpected stop"); }
inline constexpr LoopBudget kUnlimitedBudget{&neverStop, &cannotRaise};

// A Lua state with the standard library and the probe; `bounded` swaps in
// the sandbox's pattern functions (with a budget that never stops).
class PatternProbe {
 public:
  explicit PatternProbe(bool bounded) : L_(luaL_newstate()) {
    luaL_openlibs(L_);
    if (bounded) {
      lua_getglobal(L_, "string");
      installBoundedPatterns(L_, -1, &kUnlimitedBudget);
      lua_pop(L_, 1);
    }
    if (luaL_dostring(L_, kPatternProbe) != LUA_OK) throw std::runtime_error(lua_tostring(L_, -1));
  }
  ~PatternProbe() { lua_close(L_); }
  PatternProbe(const PatternProbe&) = delete;
  PatternProbe& operator=(const PatternProbe&) = delete;

  // The probe's lines, or "probe failed: ..." when the probe itself raised.
  std::string run(const std::string& s, const std::string& p, const int* init) {
    lua_getglobal(L_, "probe");
    lua_pushlstring(L_, s.data(), s.size());
    lua_pushlstring(L_, p.data(), p.size());
    if (init) {
      lua_pushinteger(L_, *init);
    } else {
      lua_pushnil(L_);
    }
    const bool ok = lua_pcall(L_, 3, 1, 0) == LUA_OK;
    std::string out = ok ? "" : "probe failed: ";
    out += lua_tostring(L_, -1);
    lua_pop(L_, 1);
    return out;
  }

 private:
  lua_State* L_;
};

}  // namespace trimtab::testing
