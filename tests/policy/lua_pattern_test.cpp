// SPDX-License-Identifier: Apache-2.0
// The bounded pattern functions against Lua's own: the same results and
// errors on hand-picked and generated patterns, and a match that can stop.
#include "policy/lua_pattern.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lua_pattern_probe.h"

namespace trimtab {
namespace {

using testing::PatternProbe;

void expectSame(PatternProbe& lua, PatternProbe& ours, const std::string& s, const std::string& p,
                const int* init = nullptr) {
  const std::string want = lua.run(s, p, init), got = ours.run(s, p, init);
  REQUIRE(want.rfind("probe failed", 0) != 0);
  CHECK_MESSAGE(got == want, "subject \"" << s << "\" pattern \"" << p << "\" init "
                                          << (init ? std::to_string(*init) : "nil") << "\nLua:\n"
                                          << want << "\nbounded:\n"
                                          << got);
}

}  // namespace

TEST_CASE("bounded patterns agree with Lua's on every feature") {
  PatternProbe lua(false), ours(true);
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
  PatternProbe lua(false), ours(true);
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
