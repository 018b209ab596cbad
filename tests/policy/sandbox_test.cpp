// SPDX-License-Identifier: Apache-2.0
// The sandbox: every escape the issue lists, the CPU budget, the
// memory cap, errors with file:line, isolation between policies.
#include <doctest/doctest.h>

#include <string>

#include "policy/lua_sandbox.h"
#include "policy/policy_engine.h"
#include "policy_test_support.h"

namespace trimtab::test {
namespace {

// Loads a one-off policy whose tick runs `body` and ticks it once.
PolicyTickResult runBody(const std::string& body, PolicyLimits limits = testLimits()) {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(limits, host);
  // Under policies/: both lib/ directories require searches are in `dir`.
  Status added = engine.add(specFor(dir.write("policies/p.lua", policyWithTick("p", body))));
  REQUIRE_MESSAGE(added.ok(), (added.ok() ? "" : added.error().message));
  return engine.tick("p", 1);
}

// Loads `source` (a policy named `name`), ticks it at 1, which must overrun
// its budget, and returns the tick at 2.
PolicyTickResult tickAfterOverrun(const std::string& name, const std::string& source) {
  TempDir dir;
  FakeHost host;
  PolicyLimits limits = testLimits();
  limits.quarantineAfterErrors = 0;
  PolicyEngine engine(limits, host);
  REQUIRE(engine.add(specFor(dir.write(name + ".lua", source))).ok());
  PolicyTickResult stuck = engine.tick(name, 1);
  REQUIRE_FALSE(stuck.status.ok());
  CHECK(contains(stuck.status.error().message, "CPU budget"));
  PolicyTickResult next = engine.tick(name, 2);
  REQUIRE_MESSAGE(next.status.ok(), next.status.error().message);
  return next;
}

void expectOk(const std::string& body) {
  PolicyTickResult r = runBody(body);
  CHECK_MESSAGE(r.status.ok(), body << " -> " << (r.status.ok() ? "" : r.status.error().message));
}

void expectError(const std::string& body, const std::string& fragment) {
  PolicyTickResult r = runBody(body);
  REQUIRE_MESSAGE(!r.status.ok(), body << " should fail");
  CHECK_MESSAGE(contains(r.status.error().message, fragment), r.status.error().message);
}

}  // namespace

TEST_CASE("sandbox: io, os, debug, package and file loaders are out of reach") {
  expectOk("assert(io == nil, 'io')");
  expectError("io.open('/etc/passwd')", "attempt to index a nil value (global 'io')");
  expectOk("assert(os.execute == nil and os.getenv == nil and os.remove == nil and os.exit == nil)");
  expectError("os.execute('touch /tmp/trimtab-pwned')", "attempt to call a nil value (field 'execute')");
  expectError("return os.getenv('HOME')", "attempt to call a nil value (field 'getenv')");
  expectOk("assert(type(os.time()) == 'number' and type(os.clock()) == 'number' and type(os.date('%Y')) == 'string')");
  expectOk("assert(debug == nil and package == nil)");
  expectError("debug.getregistry()", "global 'debug'");
  // require reaches lib/NAME.lua beside the policy only (policy_library_test.cpp).
  expectError("require('os')", "no module os.lua in ");
  expectError("require('../../etc/passwd')", "a module name is lower-case letters, digits and '_'");
  expectError("require('/etc/passwd')", "a module name is lower-case letters, digits and '_'");
  expectError("dofile('/etc/passwd')", "global 'dofile'");
  expectError("loadfile('/etc/passwd')", "global 'loadfile'");
  expectOk("assert(print ~= nil and warn == nil)");
}

TEST_CASE("sandbox: load accepts text chunks only, string.dump is gone") {
  expectOk("assert(string.dump == nil)");
  expectError("string.dump(function() end)", "field 'dump'");
  // A crafted binary chunk: the signature alone must be refused before parsing.
  expectOk(R"(local f, err = load("\27Lua\84\0\25\147\13\10\26\10", "bin", "b")
              assert(f == nil, 'binary chunk loaded')
              assert(err:find('binary chunk'), err))");
  expectOk(R"(local f = load("\27LuaT", "bin") ; assert(f == nil))");
  expectOk("local f = assert(load('return 1 + 2')); assert(f() == 3)");
  expectOk("local f = assert(load('return x', 'c', 't', {x = 5})); assert(f() == 5)");
}

TEST_CASE("sandbox: collectgarbage only counts; string metatable and __gc are guarded") {
  expectOk("assert(type(collectgarbage('count')) == 'number')");
  expectError("collectgarbage('collect')", "collectgarbage('collect') is not available");
  expectError("collectgarbage()", "not available");
  expectOk("assert(getmetatable('') == false)");
  expectError("setmetatable({}, {__gc = function() end})", "__gc metamethods are not available");
  expectOk("local t = setmetatable({}, {__index = function() return 7 end}); assert(t.x == 7)");
  // rawset works on plain tables and tables with an open metatable, not on protected ones.
  expectOk("local t = {}; assert(rawset(t, 'a', 1) == t and t.a == 1)");
  expectOk("local t = setmetatable({}, {__newindex = error}); rawset(t, 'a', 1); assert(rawget(t, 'a') == 1)");
  expectError("rawset(setmetatable({}, {__metatable = false}), 'a', 1)", "rawset: the table is read-only");
  expectError("rawset(1, 'a', 1)", "bad argument #1 to 'rawset' (table expected, got number)");
}

TEST_CASE("sandbox: an infinite loop is stopped by the budget and the next policy still runs") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string loop = dir.write("loop.lua", policyWithTick("loop", "    while true do end"));
  REQUIRE(engine.add(specFor(loop)).ok());
  REQUIRE(engine.add(specFor(dir.write("ok.lua", policyWithTick("ok", "    ctx.log('alive')")))).ok());

  PolicyTickResult stuck = engine.tick("loop", 1);
  REQUIRE_FALSE(stuck.status.ok());
  CHECK(contains(stuck.status.error().message, "CPU budget of 250ms exceeded"));
  CHECK(contains(stuck.status.error().message, loop + ":4:"));

  PolicyTickResult next = engine.tick("ok", 1);
  CHECK(next.status.ok());
  REQUIRE(next.logs.size() == 1);
  CHECK(next.logs[0] == "ok: alive");
}

TEST_CASE("sandbox: pcall and coroutines cannot swallow the budget") {
  expectError("while true do pcall(function() while true do end end) end", "CPU budget");
  expectError("while true do pcall(function() for i = 1, 1e9 do end end) end", "CPU budget");
  expectError(R"(while true do
      local co = coroutine.create(function() while true do end end)
      coroutine.resume(co)
    end)",
              "CPU budget");
  expectError(R"(local f = coroutine.wrap(function() while true do end end)
    while true do pcall(f) end)",
              "CPU budget");
  // A coroutine interrupted inside its own loop, resumed until the tick gives up.
  expectError(R"(local co = coroutine.create(function() while true do coroutine.yield() end end)
    while true do coroutine.resume(co) end)",
              "CPU budget");
  // A tick that catches the error and returns still fails.
  expectError("pcall(function() while true do end end)", "CPU budget");
}

namespace {
// The error of one tick of policy `name` (tick body `body`), which must
// fail; `file` is where the policy was written.
std::string failedTickOf(const std::string& name, const std::string& body, std::string& file) {
  static TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  file = dir.write(name + ".lua", policyWithTick(name, body));
  REQUIRE(engine.add(specFor(file)).ok());
  PolicyTickResult r = engine.tick(name, 1);
  REQUIRE_FALSE(r.status.ok());
  return r.status.error().message;
}
}  // namespace

TEST_CASE("sandbox: a pattern that backtracks for ever is stopped by the budget, with the policy's line") {
  // Lua's own matcher ran such a call to its end, out of reach of any hook:
  // the controller froze, SIGTERM unanswered.
  std::string file;
  std::string message = failedTickOf("slow", "    local _ = ('a'):rep(2e4):find('.-.-.-.-.-b')", file);
  CHECK(contains(message, "CPU budget of 250ms exceeded"));
  CHECK(contains(message, file + ":4:"));
  expectError("string.gsub(('a'):rep(1e5), ('a*'):rep(20) .. 'b', '')", "CPU budget");
  expectError("for _ in ('a'):rep(2e4):gmatch('.-.-.-.-b') do end", "CPU budget");
  expectError("pcall(string.match, ('a'):rep(2e4), '.-.-.-.-b')", "CPU budget");
}

TEST_CASE("sandbox: a loop in xpcall's message handler is stopped by the budget") {
  // The handler ran inside the budget's hook, where hooks are off: the
  // process spun for ever.
  std::string file;
  std::string message =
      failedTickOf("handler", "    xpcall(function() while true do end end, function(m) while true do end end)", file);
  CHECK(contains(message, "CPU budget of 250ms exceeded"));
  CHECK(contains(message, file + ":4:"));
  expectError("xpcall(error, function() while true do end end)", "CPU budget");
  expectError("while true do xpcall(function() while true do end end, function(m) return m end) end", "CPU budget");
  expectError(R"(local co = coroutine.wrap(function()
        xpcall(function() while true do end end, function() while true do end end)
      end)
    co())",
              "CPU budget");
}

TEST_CASE("sandbox: xpcall passes arguments, results and handled errors like the built-in") {
  expectOk(R"(local ok, a, b = xpcall(function(x, y) return x + y, x * y end, error, 3, 4)
    assert(ok and a == 7 and b == 12)
    local failed, m = xpcall(function() error("boom") end, function(e) return "handled: " .. e end)
    assert(not failed and m:find("handled: .*boom"), m)
    local _, inner = xpcall(function() error({code = 7}) end, function(e) return e.code end)
    assert(inner == 7))");
  expectError("xpcall(function() end)", "bad argument #2 to 'xpcall' (function expected");
}

TEST_CASE("sandbox: table.insert, table.remove and table.move over a huge length are stopped by the budget") {
  // Copying nils allocates nothing, so the memory cap never stopped these.
  std::string file;
  std::string message = failedTickOf("mover", "    table.move({1}, 1, 1e12, 2)", file);
  CHECK(contains(message, "CPU budget of 250ms exceeded"));
  CHECK(contains(message, file + ":4:"));
  const std::string huge = "local t = setmetatable({}, {__len = function() return 1e12 end})\n    ";
  expectError(huge + "table.insert(t, 1, 0)", "CPU budget");
  expectError(huge + "table.remove(t, 1)", "CPU budget");
  expectError(huge + "pcall(table.remove, t, 1)", "CPU budget");
}

TEST_CASE("sandbox: table.insert, table.remove and table.move behave as the built-ins") {
  expectOk(R"(local t = {1, 2, 3}
    table.insert(t, 4); table.insert(t, 1, 0)
    assert(table.concat(t, ",") == "0,1,2,3,4")
    assert(table.remove(t) == 4 and table.remove(t, 1) == 0 and table.concat(t, ",") == "1,2,3")
    assert(table.remove({}) == nil and table.remove({}, 1) == nil)
    local m = table.move({1, 2, 3, 4, 5}, 1, 3, 3)
    assert(table.concat(m, ",") == "1,2,1,2,3")
    local n = table.move({1, 2, 3, 4, 5}, 3, 5, 1)
    assert(table.concat(n, ",") == "3,4,5,4,5")
    local dst = table.move({1, 2}, 1, 2, 2, {9})
    assert(table.concat(dst, ",") == "9,1,2")
    local log = {}
    local proxy = setmetatable({}, {__index = function(_, k) return k * 10 end,
                                    __newindex = function(_, k, v) log[#log + 1] = k .. "=" .. v end})
    table.move(proxy, 1, 2, 5, proxy)
    assert(table.concat(log, " ") == "5=10 6=20", table.concat(log, " ")))");
  expectError("table.insert({1}, 5, 0)", "bad argument #2 to 'insert' (position out of bounds)");
  expectError("table.insert({1}, 1, 2, 3)", "wrong number of arguments to 'insert'");
  expectError("table.remove({1}, 5)", "bad argument #1 to 'remove' (position out of bounds)");
  expectError("table.insert(5, 1)", "bad argument #1 to 'insert' (table expected, got number)");
  expectError("table.move({}, 1, math.maxinteger, 2)", "bad argument #4 to 'move' (destination wrap around)");
  expectError("table.move({}, -1, math.maxinteger, 1)", "bad argument #3 to 'move' (too many elements to move)");
}

TEST_CASE("sandbox: xpcall lets the function yield, as the built-in does") {
  expectOk(R"(local gen = coroutine.wrap(function()
        return xpcall(function() coroutine.yield('y1'); coroutine.yield('y2'); return 'done' end, error)
      end)
    assert(gen() == 'y1' and gen() == 'y2')
    local ok, r = gen()
    assert(ok == true and r == 'done', tostring(r)))");
}

TEST_CASE("sandbox: table.concat and table.sort over metamethods that run no Lua are stopped") {
  // A C function as __index (table.concat itself) allocates nothing and
  // runs no Lua: nothing else would stop these.
  expectError("table.concat(setmetatable({}, {__index = table.concat}), '', 1, math.maxinteger)", "CPU budget");
  expectError("table.sort(setmetatable({}, {__index = rawlen, __newindex = rawequal, "
              "__len = function() return 2^31 - 2 end}))",
              "table.sort: 2147483646 elements, more than the memory cap could hold");
  expectOk(R"(assert(table.concat({1, 2, 3}, ",") == "1,2,3" and table.concat({}, ",") == "")
    assert(table.concat({1, 2, 3}, "-", 2, 3) == "2-3" and table.concat({1, 2}, ",", 3) == "")
    assert(table.concat(setmetatable({}, {__index = function(_, i) return i end, __len = function() return 3 end})) == "123")
    local t = {3, 1, 2}
    table.sort(t)
    assert(t[1] == 1 and t[3] == 3)
    table.sort(t, function(a, b) return a > b end)
    assert(t[1] == 3 and t[3] == 1))");
  expectError("table.concat({1, {}, 3})", "invalid value (at index 2) in table for 'concat'");
  expectError("table.sort({2, 1}, 5)", "bad argument #2 to 'sort' (function expected, got number)");
  expectError("table.sort({2, 1}, function() error('from the comparator') end)", "from the comparator");
}

TEST_CASE("sandbox: a plain string.find over large strings is stopped by the budget") {
  // memcmp at every place: quadratic in the lengths, out of reach of a hook.
  expectError("local s, p = ('a'):rep(2^20), ('a'):rep(2^19) .. 'b'\n    string.find(s, p, 1, true)", "CPU budget");
  expectError("local s, p = ('a'):rep(2^20), ('a'):rep(2^19) .. 'b'\n    s:find(p)", "CPU budget");
  expectOk("assert(('hello world'):find('o w', 1, true) == 5 and ('a.b'):find('.', 1, true) == 2)");
}

TEST_CASE("sandbox: string.rep of an empty string returns at once") {
  expectOk(R"(assert(string.rep("", 1e15) == "" and string.rep("", 1e15, "") == "")
    assert(("ab"):rep(3, ",") == "ab,ab,ab" and ("x"):rep(0) == "" and ("x"):rep(-1, ",") == "")
    assert(string.rep("", 3, "-") == "--"))");
  expectError("string.rep('x')", "bad argument #2 to 'rep' (number expected, got no value)");
  // At the policy's line, as the built-in says it.
  std::string file;
  std::string message = failedTickOf("huge", "    local s = string.rep('xy', math.maxinteger)", file);
  CHECK_MESSAGE(contains(message, file + ":4: resulting string too large"), message);
}

TEST_CASE("sandbox: a budget stop inside coroutine.wrap names the policy's line, not the sandbox's") {
  std::string file;
  std::string message = failedTickOf("co",
                                     "    local f = coroutine.wrap(function() while true do coroutine.yield() end end)\n"
                                     "    while true do f() end",
                                     file);
  CHECK(contains(message, "CPU budget of 250ms exceeded"));
  CHECK(contains(message, file + ":"));
  CHECK_FALSE(contains(message, "sandbox:"));
}

TEST_CASE("sandbox: the wrapped coroutine functions refuse what is not a coroutine") {
  expectError("coroutine.resume(5)", "bad argument #1 to 'resume' (coroutine expected");
  expectError("coroutine.close({})", "bad argument #1 to 'close' (coroutine expected");
  expectError("coroutine.wrap(nil)", "bad argument #1 to 'wrap' (function expected, got nil)");
}

TEST_CASE("sandbox: coroutine.close runs __close handlers under the budget") {
  expectError(R"(local co = coroutine.create(function()
        local guard <close> = setmetatable({}, {__close = function() while true do end end})
        coroutine.yield()
      end)
    coroutine.resume(co)
    coroutine.close(co))",
              "CPU budget");
}

TEST_CASE("sandbox: coroutine.wrap passes values and errors like the built-in") {
  expectOk(R"(local gen = coroutine.wrap(function(a)
        local b = coroutine.yield(a + 1)
        return b * 2
      end)
    assert(gen(1) == 2)
    assert(gen(5) == 10)
    local ok, err = pcall(gen)
    assert(not ok and err:find('cannot resume dead coroutine'), err)
    local boom = coroutine.wrap(function() error('boom') end)
    local ok2, err2 = pcall(boom)
    assert(not ok2 and err2:find('boom'), err2))");
}

TEST_CASE("sandbox: an overrun reported from coroutine.resume names the policy's line") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string file = dir.write("co.lua", policyWithTick("co", R"(    local co = coroutine.create(function() while true do end end)
    coroutine.resume(co))"));
  REQUIRE(engine.add(specFor(file)).ok());
  PolicyTickResult r = engine.tick("co", 1);
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, "CPU budget of 250ms exceeded"));
  CHECK(contains(r.status.error().message, file + ":"));
}

TEST_CASE("sandbox: a coroutine kept across ticks runs on after a tick that overran") {
  std::string body = R"(    if ctx.now == 1 then
      for _ = 1, 5 do coroutine.resume(counter) end
      while true do end  -- overruns while the coroutine is suspended
    end
    local _, n = coroutine.resume(counter)
    ctx.log('count ' .. n))";
  PolicyTickResult next = tickAfterOverrun(
      "keep", "local counter = coroutine.create(function() local n = 0 while true do n = n + 1 coroutine.yield(n) end end)\n" +
                  policyWithTick("keep", body));
  REQUIRE(next.logs.size() == 1);
  CHECK(next.logs[0] == "keep: count 6");
}

TEST_CASE("sandbox: a coroutine the budget stopped cannot be closed in a later tick") {
  // The budget's error leaves the stopped coroutine's hooks off, so its
  // pending __close handler would run where the budget cannot reach: here
  // a bounded loop (an endless one hung the controller) that marks a global.
  PolicyTickResult closing = tickAfterOverrun("co", policyWithTick("co", R"(    if ctx.now == 1 then
      co = coroutine.create(function()
        local guard <close> = setmetatable({}, {__close = function()
          for _ = 1, 3e7 do end
          closed = true
        end})
        while true do end
      end)
      coroutine.resume(co)
    else
      local ok, err = coroutine.close(co)
      ctx.log(tostring(ok) .. ' ' .. tostring(err) .. ' ' .. tostring(closed))
    end)"));
  REQUIRE(closing.logs.size() == 1);
  CHECK(closing.logs[0] ==
        "co: false cannot close a coroutine the CPU budget stopped (its __close handlers do not run) nil");
}

TEST_CASE("sandbox: a coroutine.wrap function the budget stopped fails again without running") {
  PolicyTickResult again = tickAfterOverrun("w", policyWithTick("w", R"(    if ctx.now == 1 then
      wrapped = coroutine.wrap(function()
        local guard <close> = setmetatable({}, {__close = function() for _ = 1, 3e7 do end closed = true end})
        while true do end
      end)
      wrapped()
    else
      local ok, err = pcall(wrapped)
      ctx.log(tostring(ok) .. ' ' .. tostring(err):gsub('^.-: ', '') .. ' ' .. tostring(closed))
    end)"));
  REQUIRE(again.logs.size() == 1);
  CHECK(again.logs[0] == "w: false cannot resume dead coroutine nil");
}

TEST_CASE("sandbox: an error message is cut to kMaxErrorMessageBytes") {
  PolicyTickResult r = runBody("error(string.rep('x', 1000000) .. 'end', 0)");
  REQUIRE_FALSE(r.status.ok());
  const std::string& m = r.status.error().message;
  CHECK(m.size() < kMaxErrorMessageBytes + 200);
  CHECK_MESSAGE(contains(m, "... (1000003 bytes)"), m.substr(0, 80) << " ... " << m.substr(m.size() > 80 ? m.size() - 80 : 0));
}

TEST_CASE("sandbox: the budget also bounds a file's top level") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  Status added = engine.add(specFor(dir.write("top.lua", "while true do end\nreturn {}")));
  REQUIRE_FALSE(added.ok());
  CHECK(contains(added.error().message, "CPU budget"));
  Status checked = PolicyEngine::check(specFor(dir.write("top2.lua", "while true do end")), testLimits());
  CHECK_FALSE(checked.ok());
}

TEST_CASE("sandbox: a memory bomb hits the cap, the process and the state survive") {
  TempDir dir;
  FakeHost host;
  PolicyLimits limits = testLimits();
  limits.memoryCapBytes = 4u << 20;
  PolicyEngine engine(limits, host);
  std::string body = R"(
    if ctx.now < 10 then
      local s = 'x'
      while true do s = s .. s end
    elseif ctx.now < 20 then
      local t = {}
      for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end
    end
    ctx.log('fine at ' .. ctx.now))";
  REQUIRE(engine.add(specFor(dir.write("bomb.lua", policyWithTick("bomb", body)))).ok());

  PolicyTickResult strings = engine.tick("bomb", 1);
  REQUIRE_FALSE(strings.status.ok());
  CHECK(contains(strings.status.error().message, "memory cap of 4194304 bytes exceeded"));

  PolicyTickResult tables = engine.tick("bomb", 15);
  REQUIRE_FALSE(tables.status.ok());
  CHECK(contains(tables.status.error().message, "memory cap of 4194304 bytes exceeded"));

  PolicyTickResult after = engine.tick("bomb", 30);
  CHECK(after.status.ok());
  REQUIRE(after.logs.size() == 1);
  CHECK(after.logs[0] == "bomb: fine at 30.0");
}

TEST_CASE("sandbox: a string.rep bomb is refused by the allocator") {
  expectError("local s = string.rep('x', 1 << 30)", "memory cap");
}

TEST_CASE("sandbox: unbounded recursion ends in an error, not a crash") {
  PolicyTickResult r = runBody("local function f(n) return 1 + f(n + 1) end\n    f(1)");
  REQUIRE_FALSE(r.status.ok());
  const std::string& m = r.status.error().message;
  CHECK_MESSAGE((contains(m, "stack overflow") || contains(m, "memory cap") || contains(m, "CPU budget")), m);
}

TEST_CASE("sandbox: runtime errors carry the full file path and line") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  // Longer than Lua's 60-character chunk names, which it would shorten to "...".
  std::string file = dir.write("a/rather/long/directory/name/for/policies/that/lua/would/shorten/boom.lua",
                               policyWithTick("boom", "    local x = nil\n    return x.field"));
  REQUIRE(file.size() > 60);
  REQUIRE(engine.add(specFor(file)).ok());
  PolicyTickResult r = engine.tick("boom", 1);
  REQUIRE_FALSE(r.status.ok());
  CHECK_MESSAGE(contains(r.status.error().message, file + ":5: attempt to index a nil value"),
                r.status.error().message);

  PolicyTickResult thrown = runBody("error({code = 1})");
  REQUIRE_FALSE(thrown.status.ok());
  CHECK(contains(thrown.status.error().message, "error object is a table value"));
}

TEST_CASE("sandbox: two policies cannot see each other's globals or state") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  REQUIRE(engine.add(specFor(dir.write("a.lua", policyWithTick("a", R"(
    shared = 'from a'
    string.upper = function() return 'hijacked' end
    ctx.state.secret = 42)")))).ok());
  REQUIRE(engine.add(specFor(dir.write("b.lua", policyWithTick("b", R"(
    assert(shared == nil, 'global leaked')
    assert(string.upper('x') == 'X', 'string library leaked')
    assert(ctx.state.secret == nil, 'state leaked'))")))).ok());
  CHECK(engine.tick("a", 1).status.ok());
  PolicyTickResult b = engine.tick("b", 1);
  CHECK_MESSAGE(b.status.ok(), (b.status.ok() ? "" : b.status.error().message));
}

TEST_CASE("sandbox: math.random is seeded the same way in every state") {
  TempDir dir;
  FakeHost host;
  PolicyEngine engine(testLimits(), host);
  std::string body = "    ctx.log(math.random(1, 1000000))";
  REQUIRE(engine.add(specFor(dir.write("r1.lua", policyWithTick("r1", body)))).ok());
  REQUIRE(engine.add(specFor(dir.write("r2.lua", policyWithTick("r2", body)))).ok());
  PolicyTickResult a = engine.tick("r1", 1);
  PolicyTickResult b = engine.tick("r2", 1);
  REQUIRE(a.logs.size() == 1);
  REQUIRE(b.logs.size() == 1);
  CHECK(a.logs[0].substr(4) == b.logs[0].substr(4));
}

}  // namespace trimtab::test
