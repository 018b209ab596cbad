// SPDX-License-Identifier: Apache-2.0
// The bounded pattern functions against Lua's own: the same results and
// errors on hand-picked and generated patterns, and a match that can stop.
#include "policy/lua_pattern.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace trimtab {
namespace {

// Runs every pattern function on (s, p, init) and prints each result or
// error, one line per call.
const char kProbe[] = R"lua(
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

bool neverStop(lua_State*) { return false; }
int cannotRaise(lua_State* L) { return luaL_error(L, "unexpected stop"); }
const LoopBudget kUnlimited{&neverStop, &cannotRaise};

struct State {
  lua_State* L = luaL_newstate();
  explicit State(bool bounded) {
    luaL_openlibs(L);
    if (bounded) {
      lua_getglobal(L, "string");
      installBoundedPatterns(L, -1, &kUnlimited);
      lua_pop(L, 1);
    }
    REQUIRE(luaL_dostring(L, kProbe) == LUA_OK);
  }
  ~State() { lua_close(L); }
  std::string probe(const std::string& s, const std::string& p, const int* init) {
    lua_getglobal(L, "probe");
    lua_pushlstring(L, s.data(), s.size());
    lua_pushlstring(L, p.data(), p.size());
    if (init) {
      lua_pushinteger(L, *init);
    } else {
      lua_pushnil(L);
    }
    REQUIRE(lua_pcall(L, 3, 1, 0) == LUA_OK);
    std::string out = lua_tostring(L, -1);
    lua_pop(L, 1);
    return out;
  }
};

void expectSame(State& lua, State& ours, const std::string& s, const std::string& p, const int* init = nullptr) {
  const std::string want = lua.probe(s, p, init), got = ours.probe(s, p, init);
  CHECK_MESSAGE(got == want, "subject \"" << s << "\" pattern \"" << p << "\" init "
                                          << (init ? std::to_string(*init) : "nil") << "\nLua:\n"
                                          << want << "\nbounded:\n"
                                          << got);
}

}  // namespace

TEST_CASE("bounded patterns agree with Lua's on every feature") {
  State lua(false), ours(true);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"hello world", "o"},           {"hello world", "o w"},          {"hello world", "^h"},
      {"hello world", "^w"},          {"hello world", "d$"},           {"hello world", "l+"},
      {"hello world", "l*"},          {"hello world", "l-o"},          {"hello world", "x?h"},
      {"hello world", "(h)(e)"},      {"hello world", "()ll()"},       {"hello world", "(l)%1"},
      {"hello world", "%w+"},         {"hello world", "%W"},           {"key = value", "(%w+)%s*=%s*(%w+)"},
      {"f(a(b)c)d", "%b()"},          {"THE (quick) fox", "%f[%a]%a+"}, {"THE (quick) fox", "%f[%A]"},
      {"x]y", "[]]"},                 {"x-y", "[a-]"},                 {"a.b", "%."},
      {"a.b", "."},                   {"abc", "[^b]+"},                {"abc", "[a-b]+"},
      {"abc", "[%a]+"},               {"123abc", "%d+"},               {"", ""},
      {"", ".*"},                     {"abc", ""},                     {"abc", "()"},
      {"abc", "a*"},                  {"aaa", "a-"},                   {"aaa", "a-$"},
      {"abc", "$"},                   {"a$b", "$b"},                   {"a^b", "a^"},
      {"abc", "%"},                   {"abc", "[a"},                   {"abc", "(a"},
      {"abc", "a)"},                  {"abc", "%1"},                   {"abc", "(a)%2"},
      {"abc", "%0"},                  {"abc", "%ba"},                  {"abc", "%fa"},
      {"abc", "((((((((((((((((((((((((((((((((((a))))))))))))))))))))))))))))))))))"},
      {"abab", "(ab)-"},              {"aXbX", "(.)X"},                {"one two  three", "%s+"},
      {std::string("a\0b", 3), "%z"}, {std::string("a\0b", 3), std::string("\0", 1)},
      {std::string("a\0b", 3), std::string("[\0]", 3)},
  };
  for (const auto& [s, p] : cases) expectSame(lua, ours, s, p);
  for (int init : {-100, -2, -1, 0, 1, 2, 3, 11, 12, 100})
    for (const char* p : {"o", "l+", "^l", "", "()"}) expectSame(lua, ours, "hello world", p, &init);
}

TEST_CASE("bounded patterns agree with Lua's on generated patterns") {
  State lua(false), ours(true);
  const std::vector<std::string> tokens = {"a", "b", "(", ")", "()", ".", "%a", "%d", "%s", "%W", "[ab]", "[^a]",
                                           "[a-c]", "%b()", "%f[%w]", "*", "+", "-", "?", "^", "$", "%1", "%2",
                                           "%", "[", "]", "%%", " ", "1"};
  const std::string alphabet = "aab(b)c 12 ba$^%]";
  std::uint64_t seed = 42;
  auto next = [&seed](std::uint64_t n) {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return (seed >> 33) % n;
  };
  for (int round = 0; round < 3000; ++round) {
    std::string p, s;
    for (std::uint64_t k = 0, n = 1 + next(6); k < n; ++k) p += tokens[next(tokens.size())];
    for (std::uint64_t k = 0, n = next(16); k < n; ++k) s += alphabet[next(alphabet.size())];
    if (round % 3 == 0) {
      int init = static_cast<int>(next(20)) - 10;
      expectSame(lua, ours, s, p, &init);
    } else {
      expectSame(lua, ours, s, p);
    }
  }
}

namespace {
int gPolls = 0;
bool stopAfterFewPolls(lua_State*) { return ++gPolls > 3; }
int raiseStopped(lua_State* L) { return luaL_error(L, "stopped by the budget"); }
const LoopBudget kStopping{&stopAfterFewPolls, &raiseStopped};
}  // namespace

TEST_CASE("a backtracking match stops when the budget says so") {
  lua_State* L = luaL_newstate();
  luaL_openlibs(L);
  lua_getglobal(L, "string");
  installBoundedPatterns(L, -1, &kStopping);
  lua_pop(L, 1);
  for (const char* code : {"return ('a'):rep(2e4):find('.-.-.-.-.-b')",
                           "return ('a'):rep(1e5):find(('a*'):rep(20) .. 'b')",
                           "return ('a'):rep(2e4):gsub('.-.-.-.-b', 'x')",
                           "for x in ('a'):rep(2e4):gmatch('.-.-.-.-b') do end",
                           "return ('('):rep(1e6):match('%b()')"}) {
    gPolls = 0;
    CHECK(luaL_dostring(L, code) != LUA_OK);
    CHECK(std::string(lua_tostring(L, -1)).find("stopped by the budget") != std::string::npos);
    lua_settop(L, 0);
  }
  lua_close(L);
}

}  // namespace trimtab
