// SPDX-License-Identifier: Apache-2.0
// require for policies: where modules are found, what a name may be, which
// files are refused, once per policy, cycles and errors, the budget, hot
// reload of modules. Policies live under `dir`/policies/ so that both lib/
// directories searched are inside the test's own directory.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "policy/policy_engine.h"
#include "policy/policy_library.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

namespace fs = std::filesystem;

// A module that counts how often its chunk ran (in a global of the policy's
// state) and returns a function.
const char* kCounterModule = R"(loads = (loads or 0) + 1
local M = {}
function M.twice(x) return 2 * x end
return M
)";

std::string normal(const fs::path& p) { return p.lexically_normal().generic_string(); }

// What every case needs: a directory, a host and an engine.
struct Library {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine{testLimits(), host};
};

// A policy that requires `module` when loaded and logs what it returned.
std::string requiring(const std::string& name, const std::string& module) {
  return "local m = require('" + module + "')\nreturn { name = '" + name +
         "', tick = function(ctx) ctx.log(tostring(m)) end }\n";
}

}  // namespace

TEST_CASE_FIXTURE(Library, "library: require loads lib/NAME.lua beside the policy, once per policy") {
  dir.write("policies/lib/util.lua", kCounterModule);
  dir.write("policies/lib/nothing.lua", "loaded_nothing = ...\n");  // the module's name
  std::string a = dir.write("policies/a.lua", R"(local util = require("util")
return { name = 'a', tick = function(ctx)
  local again = require("util")
  ctx.log(util.twice(21), loads, again == util, tostring(require("nothing")), tostring(loaded_nothing))
end })");
  std::string b = dir.write("policies/b.lua", R"(local util = require("util")
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

TEST_CASE_FIXTURE(Library, "library: a policy in a subdirectory finds its parent's lib/, its own first; never /lib") {
  dir.write("policies/lib/where.lua", "return 'parent'");
  dir.write("policies/lib/shared.lua", "return 'shared'");
  dir.write("policies/sub/lib/where.lua", "return 'own'");
  std::string p = dir.write("policies/sub/p.lua", R"(local w, s = require("where"), require("shared")
return { name = 'p', tick = function(ctx) ctx.log(w, s) end })");
  REQUIRE(engine.add(specFor(p)).ok());
  CHECK(engine.tick("p", 1).logs.at(0) == "p: own shared");

  PolicyLibrary library(p);
  std::string root = normal(dir.path());
  CHECK(library.directories() == std::vector<std::string>{root + "/policies/sub/lib", root + "/policies/lib"});
  // The system's /lib is never searched.
  CHECK(PolicyLibrary("/etc/p.lua").directories() == std::vector<std::string>{"/etc/lib"});
  CHECK(PolicyLibrary("/p.lua").directories().empty());
  CHECK(PolicyLibrary("/etc/./p.lua").directories() == std::vector<std::string>{"/etc/lib"});
}

TEST_CASE_FIXTURE(Library, "library: names are words; bad ones are shown safely; a missing module names where it was looked for") {
  CHECK(PolicyLibrary::validName("optional_metrics", 16));
  CHECK(PolicyLibrary::validName("v2", 2));
  for (const char* bad : {"", "Upper", "a.b", "a/b", "..", "a-b", "a b", "/etc/passwd"}) {
    CHECK_MESSAGE(!PolicyLibrary::validName(bad, std::char_traits<char>::length(bad)), bad);
  }
  CHECK(!PolicyLibrary::validName(std::string(65, 'a').c_str(), 65));
  CHECK(!PolicyLibrary::validName("one\0/../x", 9));  // an embedded NUL is no end of the name

  std::string root = normal(dir.path());
  std::string p = dir.write("policies/p.lua", requiring("p", "absent"));
  std::string error = errorOf(engine.add(specFor(p)));
  CHECK_MESSAGE(contains(error, p + ":1: require('absent'): no module absent.lua in " + root + "/policies/lib or " +
                                    root + "/lib"),
                error);
  std::string q = dir.write("policies/q.lua", requiring("q", "a.b"));
  CHECK(contains(errorOf(engine.add(specFor(q))), "require('a.b'): a module name is lower-case letters"));
  std::string r = dir.write("policies/r.lua", "local m = require({})\nreturn { name = 'r', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(r))), "bad argument #1 to 'require' (string expected, got table)"));
  // A NUL, a newline and a long name: shown as '?', cut, with the length.
  std::string s = dir.write("policies/s.lua", "local m = require('one\\0/x\\n' .. ('a'):rep(100))\n"
                                              "return { name = 's', tick = function(ctx) end }");
  error = errorOf(engine.add(specFor(s)));
  CHECK_MESSAGE(contains(error, "require('one?/x?aaa"), error);
  CHECK_MESSAGE(contains(error, "... (107 bytes)'): a module name is"), error);
}

TEST_CASE_FIXTURE(Library, "library: files that are not plain modules inside lib/ are refused") {
  std::string root = normal(dir.path());

  // A link out of the directory: refused, and nothing of the target is read.
  std::string secret = dir.write("secret.lua", "return 'secret'");
  dir.write("policies/lib/.keep", "");
  fs::create_symlink(secret, dir.path() / "policies/lib/out.lua");
  std::string p = dir.write("policies/p.lua", requiring("p", "out"));
  std::string error = errorOf(engine.add(specFor(p)));
  CHECK_MESSAGE(contains(error, "require('out'): refused " + root + "/policies/lib/out.lua: it leads outside " +
                                    root + "/policies/lib"),
                error);

  // A link within the directory's own tree (a ConfigMap volume's ..data): fine.
  dir.write("policies/lib/..data/in.lua", "return 'inside'");
  fs::create_symlink("..data/in.lua", dir.path() / "policies/lib/in.lua");
  std::string q = dir.write("policies/q.lua", requiring("q", "in"));
  REQUIRE_MESSAGE(engine.add(specFor(q)).ok(), "q");
  CHECK(engine.tick("q", 1).logs.at(0) == "q: inside");

  // A FIFO would block the loop: refused without opening it for long.
  REQUIRE(::mkfifo((dir.path() / "policies/lib/fifo.lua").c_str(), 0644) == 0);
  std::string f = dir.write("policies/f.lua", requiring("f", "fifo"));
  CHECK(contains(errorOf(engine.add(specFor(f))), "refused " + root + "/policies/lib/fifo.lua: not a regular file"));

  // Too large.
  dir.write("policies/lib/big.lua", "return '" + std::string(PolicyLibrary::kMaxModuleBytes, 'x') + "'");
  std::string b = dir.write("policies/b.lua", requiring("b", "big"));
  CHECK(contains(errorOf(engine.add(specFor(b))), "refused " + root + "/policies/lib/big.lua: larger than 1048576 bytes"));

  // A world-writable file, then a world-writable lib/ (skipped: the parent's is used).
  std::string w = dir.write("policies/lib/open.lua", "return 'open'");
  fs::permissions(w, fs::perms::others_write, fs::perm_options::add);
  std::string o = dir.write("policies/o.lua", requiring("o", "open"));
  CHECK(contains(errorOf(engine.add(specFor(o))), "refused " + w + ": others can write to it"));

  dir.write("policies/sub/lib/mod.lua", "return 'planted'");
  dir.write("policies/lib/mod.lua", "return 'parent'");
  fs::permissions(dir.path() / "policies/sub/lib", fs::perms::others_write, fs::perm_options::add);
  std::string m = dir.write("policies/sub/m.lua", requiring("m", "mod"));
  REQUIRE(engine.add(specFor(m)).ok());
  CHECK(engine.tick("m", 1).logs.at(0) == "m: parent");
  std::string n = dir.write("policies/sub/n.lua", requiring("n", "nowhere"));
  CHECK(contains(errorOf(engine.add(specFor(n))),
                 "; " + root + "/policies/sub/lib skipped: others can write to it, or it belongs to another user"));

  // A lib/ that is a link to a trusted directory is followed; its modules'
  // real paths are inside the link's target.
  dir.write("shared/linked.lua", "return 'linked'");
  fs::create_directories(dir.path() / "policies/other");
  fs::create_symlink(dir.path() / "shared", dir.path() / "policies/other/lib");
  std::string l = dir.write("policies/other/l.lua", requiring("l", "linked"));
  REQUIRE_MESSAGE(engine.add(specFor(l)).ok(), errorOf(engine.add(specFor(l))));
  CHECK(engine.tick("l", 1).logs.at(0) == "l: linked");

  // Another user's link or directory (as root only: making one needs chown).
  if (::geteuid() == 0) {
    dir.write("policies/theirs/lib/mod.lua", "return 'theirs'");
    REQUIRE(::chown((dir.path() / "policies/theirs/lib").c_str(), 2000, 2000) == 0);
    std::string t = dir.write("policies/theirs/t.lua", requiring("t", "mod"));
    REQUIRE(engine.add(specFor(t)).ok());
    CHECK(engine.tick("t", 1).logs.at(0) == "t: parent");  // theirs skipped, the parent's used

    fs::create_directories(dir.path() / "policies/planted");
    fs::create_symlink(dir.path() / "shared", dir.path() / "policies/planted/lib");
    REQUIRE(::lchown((dir.path() / "policies/planted/lib").c_str(), 2000, 2000) == 0);
    std::string u = dir.write("policies/planted/u.lua", requiring("u", "linked"));
    CHECK(contains(errorOf(engine.add(specFor(u))),
                   "; " + root + "/policies/planted/lib skipped: a link that belongs to another user"));
  }

  // A byte-order mark and a #! line are skipped, as for a policy file.
  dir.write("policies/lib/marked.lua", "\xEF\xBB\xBF#!/usr/bin/env lua\nreturn 'marked'");
  std::string k = dir.write("policies/k.lua", requiring("k", "marked"));
  REQUIRE_MESSAGE(engine.add(specFor(k)).ok(), "k");
  CHECK(engine.tick("k", 1).logs.at(0) == "k: marked");
}

TEST_CASE_FIXTURE(Library, "library: a cycle is an error; a module that fails can be required again") {
  dir.write("policies/lib/ping.lua", "return require('pong')");
  dir.write("policies/lib/pong.lua", "return require('ping')");
  std::string p = dir.write("policies/p.lua", "require('ping')\nreturn { name = 'p', tick = function(ctx) end }");
  std::string error = errorOf(engine.add(specFor(p)));
  CHECK_MESSAGE(contains(error, "require('ping'): the module requires itself (directly or through others)"), error);

  std::string lib = dir.write("policies/lib/flaky.lua",
                              "tries = (tries or 0) + 1\nif tries == 1 then error('first try') end\nreturn tries");
  std::string q = dir.write("policies/q.lua", R"(return { name = 'q', tick = function(ctx)
  local ok, err = pcall(require, 'flaky')
  ctx.log(tostring(ok), err, require('flaky'), require('flaky'))
end })");
  REQUIRE(engine.add(specFor(q)).ok());
  PolicyTickResult r = engine.tick("q", 1);
  REQUIRE_MESSAGE(r.status.ok(), errorOf(r.status));
  CHECK(r.logs.at(0) == "q: false " + lib + ":2: first try 2 2");

  // A syntax error in a module names the module's file and line.
  std::string broken = dir.write("policies/lib/broken.lua", "local x = \nreturn {");
  std::string s = dir.write("policies/s.lua", "require('broken')\nreturn { name = 's', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(s))), broken + ":2:"));

  // In full, even where Lua would shorten a long path.
  std::string deep = "policies/" + std::string(40, 'd') + "/" + std::string(40, 'e');
  std::string boom = dir.write(deep + "/lib/boom.lua", "error('boom')");
  std::string t = dir.write(deep + "/t.lua", requiring("t", "boom"));
  error = errorOf(engine.add(specFor(t)));
  CHECK_MESSAGE(contains(error, boom + ":1: boom"), error);
}

TEST_CASE_FIXTURE(Library, "library: a policy that looks for too many modules gets an error, not an ever longer watch list") {
  std::string p = dir.write("policies/p.lua", R"(return { name = 'p', tick = function(ctx)
  for i = 1, 1000 do
    local ok, err = pcall(require, 'm' .. i)
    if not err:find('no module') then ctx.log(i, err) return end
  end
end })");
  REQUIRE(engine.add(specFor(p)).ok());
  PolicyTickResult r = engine.tick("p", 1);
  REQUIRE(r.logs.size() == 1);
  CHECK_MESSAGE(contains(r.logs[0], "more than 256 module paths looked at by one policy"), r.logs[0]);
}

TEST_CASE_FIXTURE(Library, "library: a module runs under the policy's CPU budget") {
  dir.write("policies/lib/spin.lua", "while true do end");
  std::string p = dir.write("policies/p.lua", "require('spin')\nreturn { name = 'p', tick = function(ctx) end }");
  CHECK(contains(errorOf(engine.add(specFor(p))), "CPU budget of 250ms exceeded"));
}

TEST_CASE_FIXTURE(Library, "library: a changed module reloads the policies that required it") {
  std::string lib = dir.write("policies/lib/answer.lua", "return 1");
  std::string p = dir.write("policies/p.lua", R"(local answer = require('answer')
return { name = 'p', tick = function(ctx) ctx.log(answer) end })");
  std::string other = dir.write("policies/other.lua", "return { name = 'other', tick = function(ctx) end }");
  REQUIRE(engine.add(specFor(p)).ok());
  REQUIRE(engine.add(specFor(other)).ok());
  CHECK(engine.changedPolicies().empty());

  dir.write("policies/lib/answer.lua", "return 22");
  touchLater(lib, 10);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());
  CHECK(engine.changedPolicies().empty());
  CHECK(engine.tick("p", 1).logs.at(0) == "p: 22");

  // A module that no longer loads: the old version runs on, and it is not
  // retried until a file changes again.
  dir.write("policies/lib/answer.lua", "return {");
  touchLater(lib, 20);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  CHECK(contains(errorOf(engine.reload("p")), lib + ":1:"));
  CHECK(engine.changedPolicies().empty());
  CHECK(engine.tick("p", 2).logs.at(0) == "p: 22");
  dir.write("policies/lib/answer.lua", "return 33");
  touchLater(lib, 30);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());
  CHECK(engine.tick("p", 3).logs.at(0) == "p: 33");

  // A chmod is a change (a module refused for its mode is tried again).
  fs::permissions(lib, fs::perms::others_write, fs::perm_options::add);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  CHECK(contains(errorOf(engine.reload("p")), "others can write to it"));
  CHECK(engine.changedPolicies().empty());
  fs::permissions(lib, fs::perms::others_write, fs::perm_options::remove);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());

  // Removed: a change as well.
  fs::remove(lib);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  CHECK(contains(errorOf(engine.reload("p")), "no module answer.lua"));
  CHECK(engine.changedPolicies().empty());
}

TEST_CASE_FIXTURE(Library, "library: reload also follows modules required at tick time, and modules still missing") {
  std::string late = dir.write("policies/lib/late.lua", "return 'v1'");
  std::string p = dir.write("policies/p.lua", R"(return { name = 'p', tick = function(ctx)
  ctx.log(require('late'))
end })");
  REQUIRE(engine.add(specFor(p)).ok());
  CHECK(engine.tick("p", 1).logs.at(0) == "p: v1");
  dir.write("policies/lib/late.lua", "return 'v2'");
  touchLater(late, 10);
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());
  CHECK(engine.tick("p", 2).logs.at(0) == "p: v2");

  // The policy is edited to require a module not written yet: the reload
  // fails; writing the module is what the engine waits for.
  dir.write("policies/p.lua", requiring("p", "later"));
  touchLater(p, 20);
  CHECK(contains(errorOf(engine.reload("p")), "no module later.lua"));
  CHECK(engine.changedPolicies().empty());
  dir.write("policies/lib/later.lua", "return 'here'");
  CHECK(engine.changedPolicies() == std::vector<std::string>{"p"});
  REQUIRE(engine.reload("p").ok());
  CHECK(engine.tick("p", 3).logs.at(0) == "p: here");

  // A module of the same name written into a subdirectory policy's own lib/
  // takes precedence over the parent's: a change too.
  std::string s = dir.write("policies/sub/s.lua", requiring("s", "later"));
  REQUIRE(engine.add(specFor(s)).ok());
  CHECK(engine.tick("s", 1).logs.at(0) == "s: here");
  CHECK(engine.changedPolicies().empty());
  dir.write("policies/sub/lib/later.lua", "return 'own'");
  CHECK(engine.changedPolicies() == std::vector<std::string>{"s"});
  REQUIRE(engine.reload("s").ok());
  CHECK(engine.tick("s", 2).logs.at(0) == "s: own");
}

}  // namespace trimtab::test
