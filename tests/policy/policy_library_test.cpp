// SPDX-License-Identifier: Apache-2.0
// require for policies: where modules are found, what a name may be, once
// per policy, cycles and errors, the budget, hot reload of a module.
#include <doctest/doctest.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "policy/policy_engine.h"
#include "policy/policy_library.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

// A module that counts how often its chunk ran (in a global of the policy's
// state) and returns a function.
const char* kCounterModule = R"(loads = (loads or 0) + 1
local M = {}
function M.twice(x) return 2 * x end
return M
)";

}  // namespace

TEST_CASE("library: require loads lib/NAME.lua beside the policy, once per policy") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  dir.write("lib/util.lua", kCounterModule);
  dir.write("lib/nothing.lua", "loaded_nothing = ...\n");  // the module's name
  std::string a = dir.write("a.lua", R"(local util = require("util")
return { name = 'a', tick = function(ctx)
  local again = require("util")
  ctx.log(util.twice(21), loads, again == util, tostring(require("nothing")), tostring(loaded_nothing))
end })");
  std::string b = dir.write("b.lua", R"(local util = require("util")
return { name = 'b', tick = function(ctx) ctx.log(loads) end })");
  REQUIRE_MESSAGE(engine.add(specFor(a)).ok(), "a");
  REQUIRE_MESSAGE(engine.add(specFor(b)).ok(), "b");
  PolicyTickResult r = engine.tick("a", 1);
  REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
  // Once per policy; a module returning nothing gives true.
  CHECK(r.logs.at(0) == "a: 42 1 true true nothing");
  CHECK(engine.tick("a", 2).logs.at(0) == "a: 42 1 true true nothing");
  // Each policy has its own state: b loaded its own copy.
  CHECK(engine.tick("b", 1).logs.at(0) == "b: 1");
}

TEST_CASE("library: a policy in a subdirectory finds its parent's lib/, its own first") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  dir.write("lib/where.lua", "return 'parent'");
  dir.write("lib/shared.lua", "return 'shared'");
  dir.write("sub/lib/where.lua", "return 'own'");
  std::string p = dir.write("sub/p.lua", R"(local w, s = require("where"), require("shared")
return { name = 'p', tick = function(ctx) ctx.log(w, s) end })");
  REQUIRE(engine.add(specFor(p)).ok());
  CHECK(engine.tick("p", 1).logs.at(0) == "p: own shared");

  PolicyLibrary library(p);
  std::string root = dir.path().lexically_normal().generic_string();
  CHECK(library.directories() == std::vector<std::string>{root + "/sub/lib", root + "/lib"});
}

TEST_CASE("library: names are words; a missing module names where it was looked for") {
  CHECK(PolicyLibrary::validName("optional_metrics", 16));
  CHECK(PolicyLibrary::validName("v2", 2));
  for (const char* bad : {"", "Upper", "a.b", "a/b", "..", "a-b", "a b", "/etc/passwd"}) {
    CHECK_MESSAGE(!PolicyLibrary::validName(bad, std::char_traits<char>::length(bad)), bad);
  }
  CHECK(!PolicyLibrary::validName(std::string(65, 'a').c_str(), 65));

  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string p = dir.write("p.lua", "local m = require('absent')\nreturn { name = 'p', tick = function(ctx) end }");
  std::string error = errorOf(engine.add(specFor(p)));
  std::string root = dir.path().lexically_normal().generic_string();
  CHECK_MESSAGE(contains(error, p + ":1: require('absent'): no module absent.lua in " + root + "/lib or " +
                                    dir.path().parent_path().lexically_normal().generic_string() + "/lib"),
                error);
  std::string q = dir.write("q.lua", "local m = require('a.b')\nreturn { name = 'q', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(q))), "require('a.b'): a module name is lower-case letters"));
  std::string r = dir.write("r.lua", "local m = require({})\nreturn { name = 'r', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(r))), "bad argument #1 to 'require' (string expected, got table)"));
}

TEST_CASE("library: a cycle is an error; a module that fails can be required again") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  dir.write("lib/ping.lua", "return require('pong')");
  dir.write("lib/pong.lua", "return require('ping')");
  std::string p = dir.write("p.lua", "require('ping')\nreturn { name = 'p', tick = function(ctx) end }");
  std::string error = errorOf(engine.add(specFor(p)));
  CHECK_MESSAGE(contains(error, "require('ping'): the module requires itself (directly or through others)"), error);

  std::string lib = dir.write("lib/flaky.lua", "tries = (tries or 0) + 1\nif tries == 1 then error('first try') end\nreturn tries");
  std::string q = dir.write("q.lua", R"(return { name = 'q', tick = function(ctx)
  local ok, err = pcall(require, 'flaky')
  ctx.log(tostring(ok), err, require('flaky'), require('flaky'))
end })");
  REQUIRE(engine.add(specFor(q)).ok());
  PolicyTickResult r = engine.tick("q", 1);
  REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
  CHECK(r.logs.at(0) == "q: false " + lib + ":2: first try 2 2");

  // A syntax error in a module names the module's file and line.
  std::string broken = dir.write("lib/broken.lua", "local x = \nreturn {");
  std::string s = dir.write("s.lua", "require('broken')\nreturn { name = 's', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(s))), broken + ":2:"));
}

TEST_CASE("library: a module runs under the policy's CPU budget") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  dir.write("lib/spin.lua", "while true do end");
  std::string p = dir.write("p.lua", "require('spin')\nreturn { name = 'p', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(p))), "CPU budget of 250ms exceeded"));
}

TEST_CASE("library: a changed module reloads the policies that required it") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string lib = dir.write("lib/answer.lua", "return 1");
  std::string p = dir.write("p.lua", R"(local answer = require('answer')
return { name = 'p', tick = function(ctx) ctx.log(answer) end })");
  std::string other = dir.write("other.lua", "return { name = 'other', tick = function(ctx) end }");
  REQUIRE(engine.add(specFor(p)).ok());
  REQUIRE(engine.add(specFor(other)).ok());
  CHECK(engine.changedPolicies().empty());

  dir.write("lib/answer.lua", "return 22");
  touchLater(lib, 10);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());
  CHECK(engine.changedPolicies().empty());
  CHECK(engine.tick("p", 1).logs.at(0) == "p: 22");

  // A module that no longer loads: the old version runs on, and it is not
  // retried until a file changes again.
  dir.write("lib/answer.lua", "return {");
  touchLater(lib, 20);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  CHECK(contains(errorOf(engine.reload("p")), lib + ":1:"));
  CHECK(engine.changedPolicies().empty());
  CHECK(engine.tick("p", 2).logs.at(0) == "p: 22");

  // Removed: a change as well.
  std::filesystem::remove(lib);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  CHECK(contains(errorOf(engine.reload("p")), "no module answer.lua"));
}

}  // namespace trimtab::test
