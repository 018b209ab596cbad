// SPDX-License-Identifier: Apache-2.0
#include "policy/lua_sandbox.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "common/units.h"
#include "policy/lua_bounded_library.h"
#include "policy/lua_pattern.h"

namespace trimtab {
namespace {

// math.random is seeded with this, so a policy replays identically in the
// simulator and live.
constexpr lua_Integer kRandomSeed = 20240601;

int messageHandler(lua_State* L) {
  int type = lua_type(L, 1);
  if (type == LUA_TSTRING) return 1;
  if (type == LUA_TNUMBER) {
    lua_tostring(L, 1);  // converts in place
    return 1;
  }
  if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) return 1;
  lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  return 1;
}

// load() for text chunks only: a binary chunk could break the VM's invariants.
int safeLoad(lua_State* L) {
  int n = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  if (n >= 2) {
    lua_pushvalue(L, 2);
  } else {
    lua_pushnil(L);
  }
  lua_pushliteral(L, "t");
  int args = 3;
  if (n >= 4) {  // an explicit env, even nil, must stay explicit
    lua_pushvalue(L, 4);
    ++args;
  }
  lua_call(L, args, LUA_MULTRET);
  return lua_gettop(L) - n;
}

// A full collection is CPU the instruction budget cannot see; only the
// harmless query stays.
int safeCollectGarbage(lua_State* L) {
  const char* option = luaL_optstring(L, 1, "collect");
  if (std::strcmp(option, "count") == 0) {
    lua_pushnumber(L, lua_gc(L, LUA_GCCOUNT, 0) + lua_gc(L, LUA_GCCOUNTB, 0) / 1024.0);
    return 1;
  }
  return luaL_error(L, "collectgarbage('%s') is not available in policies (only 'count')", option);
}

// Finalizers run during collection and at close, outside any budget; an
// object is only ever finalized if its metatable had __gc when it was set.
int safeSetMetatable(lua_State* L) {
  if (lua_type(L, 2) == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    if (lua_rawget(L, 2) != LUA_TNIL) {
      return luaL_error(L, "__gc metamethods are not available in policies");
    }
    lua_pop(L, 1);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// rawset would write into a read-only proxy (ctx, ctx.params, a knob),
// under its __newindex: the value would then shadow what the proxy shows.
// A protected metatable (__metatable set, as every proxy's is) marks a table
// its owner closed, as it does for setmetatable.
int safeRawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);  // here, so the message names 'rawset'
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    return luaL_error(L, "rawset: the table is read-only (its metatable is protected)");
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

void setGlobalNil(lua_State* L, const char* name) {
  lua_pushnil(L);
  lua_setglobal(L, name);
}

void wrapGlobal(lua_State* L, const char* name, lua_CFunction wrapper) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, wrapper, 1);
  lua_setglobal(L, name);
}

// How Lua's chunkid names an "@file" source in messages (lobject.c).
std::string luaShortName(const std::string& file) {
  constexpr std::size_t kKeep = LUA_IDSIZE - 4;  // "..." + tail + NUL fill LUA_IDSIZE
  if (file.size() + 1 <= LUA_IDSIZE) return file;
  return "..." + file.substr(file.size() - kKeep);
}

bool endsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

LuaSandbox::LuaSandbox(Seconds cpuBudget, std::size_t memoryCapBytes)
    : cap_(memoryCapBytes), budget_(cpuBudget) {}

LuaSandbox::~LuaSandbox() {
  watch_.reset();  // the watchdog must not touch a closed state
  if (L_) lua_close(L_);
}

Result<std::unique_ptr<LuaSandbox>> LuaSandbox::create(Seconds cpuBudget, std::size_t memoryCapBytes) {
  if (!(cpuBudget > 0) || !std::isfinite(cpuBudget)) return makeError("the CPU budget must be a duration > 0");
  std::unique_ptr<LuaSandbox> sandbox(new LuaSandbox(cpuBudget, memoryCapBytes));
  sandbox->L_ = lua_newstate(&LuaSandbox::allocate, sandbox.get());
  if (!sandbox->L_) {
    return makeError("memory cap of " + std::to_string(memoryCapBytes) +
                     " bytes is too small for a Lua state");
  }
  auto watch = SandboxWatchdog::watch(sandbox->L_, &LuaSandbox::hook, sandbox->budget_);
  if (!watch.ok()) return watch.error();
  sandbox->watch_ = std::move(*watch);
  Status opened = sandbox->run(&LuaSandbox::openLibraries, nullptr);
  if (!opened.ok()) return makeError("cannot set up the Lua sandbox: " + opened.error().message);
  return sandbox;
}

void LuaSandbox::setChunkFile(const std::string& file) {
  chunkFile_ = file;
  addChunkFile(file);
}

LuaSandbox& LuaSandbox::of(lua_State* L) {
  void* ud = nullptr;
  lua_getallocf(L, &ud);
  return *static_cast<LuaSandbox*>(ud);
}

void* LuaSandbox::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) {
  auto* self = static_cast<LuaSandbox*>(ud);
  std::size_t old = ptr ? osize : 0;  // with ptr null, osize is a type tag
  if (nsize == 0) {
    std::free(ptr);
    self->used_ -= old;
    return nullptr;
  }
  // Lua requires shrinking to succeed; only growth is refused.
  if (nsize > old && self->used_ - old + nsize > self->cap_) return nullptr;
  void* block = std::realloc(ptr, nsize);
  if (!block) return nullptr;
  self->used_ = self->used_ - old + nsize;
  return block;
}

void LuaSandbox::hook(lua_State* L, lua_Debug* ar) {
  if (ar->event != LUA_HOOKLINE) {
    countHook(L);
    return;
  }
  LuaSandbox& self = of(L);
  if (self.lineObserver_ && lua_getinfo(L, "S", ar)) self.lineObserver_->onLine(ar->source, ar->currentline);
}

void LuaSandbox::countHook(lua_State* L) {
  LuaSandbox& self = of(L);
  // Only an interrupt sets a count hook. Still set while no overrun is on: a
  // coroutine that yielded just after an interrupt set its hook, resumed in
  // a later run; it runs on. (Should an interrupt land right here, the
  // watchdog sends it again a period later.)
  if (!self.watch_->interrupted()) {
    if (self.lineObserver_) {
      lua_sethook(L, &LuaSandbox::hook, LUA_MASKLINE, 0);
    } else {
      lua_sethook(L, nullptr, 0, 0);
    }
    return;
  }
  raiseOverrun(L);
}

bool LuaSandbox::overrun(lua_State* L) {
  const LuaSandbox& self = of(L);
  return self.watch_ && self.watch_->interrupted();
}

int LuaSandbox::raiseOverrun(lua_State* L) {
  LuaSandbox& self = of(L);
  if (!self.budgetExceeded_) {
    self.budgetExceeded_ = true;
    // Where the policy was: the innermost Lua function with a line (the
    // interrupt may land in a C function such as coroutine.resume).
    char where[LUA_IDSIZE + 32] = "";
    lua_Debug here;
    for (int level = 0; lua_getstack(L, level, &here); ++level) {
      // The sandbox's own Lua (coroutine.wrap) is not where the policy was.
      if (lua_getinfo(L, "Sl", &here) && here.currentline > 0 && std::strcmp(here.source, "=sandbox") != 0) {
        std::snprintf(where, sizeof where, "%s:%d: ", here.short_src, here.currentline);
        break;
      }
    }
    self.budgetMessage_ = std::string(where) + "CPU budget of " + formatDuration(self.budget_) + " exceeded";
  }
  // Every instruction raises from now on (the interrupt set a count of 1),
  // so a pcall in the chunk cannot swallow the error and keep looping.
  lua_pushstring(L, self.budgetMessage_.c_str());
  return lua_error(L);
}

// Runs the C function in upvalue 1 (coroutine.resume or coroutine.close) on
// the arguments, with the coroutine (argument 1) marked as the Lua thread
// running: an interrupt must set its hook on the thread that executes, and
// each coroutine has its own.
//
// A coroutine the budget stopped is put in upvalue 2 (a weak-keyed table),
// and closing it later is refused (upvalue 3 is true for close): the error
// raised from the hook leaves that coroutine's hooks off for good (Lua turns
// them back on only in a protected call of the same thread), so its pending
// __close handlers would run where no interrupt could stop them.
int LuaSandbox::onCoroutine(lua_State* L) {
  lua_State* co = lua_tothread(L, 1);
  luaL_argexpected(L, co, 1, "coroutine");
  LuaSandbox& self = of(L);
  if (self.watch_->interrupted()) return raiseOverrun(L);
  if (lua_toboolean(L, lua_upvalueindex(3))) {
    lua_pushvalue(L, 1);
    if (lua_rawget(L, lua_upvalueindex(2)) != LUA_TNIL) {
      lua_pushboolean(L, 0);
      lua_pushliteral(L, "cannot close a coroutine the CPU budget stopped (its __close handlers do not run)");
      return 2;
    }
    lua_pop(L, 1);
  }
  const int n = lua_gettop(L);
  lua_pushvalue(L, 1);  // the coroutine stays at 1, below the results
  lua_insert(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 2);
  lua_State* outer = self.watch_->running();
  self.watch_->setRunning(co);
  const int status = lua_pcall(L, n, LUA_MULTRET, 0);
  self.watch_->setRunning(outer);
  if (self.watch_->interrupted() && lua_status(co) != LUA_OK && lua_status(co) != LUA_YIELD) {
    lua_pushvalue(L, 1);
    lua_pushboolean(L, 1);
    lua_rawset(L, lua_upvalueindex(2));
  }
  if (status != LUA_OK) return lua_error(L);
  if (self.watch_->interrupted()) {
    lua_settop(L, 0);  // room for the message
    return raiseOverrun(L);
  }
  return lua_gettop(L) - 1;
}

int LuaSandbox::openLibraries(lua_State* L) {
  static const luaL_Reg kLibraries[] = {
      {LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
      {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
      {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
  };
  for (const luaL_Reg& lib : kLibraries) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  for (const char* name : {"dofile", "loadfile", "require", "warn", "print"}) setGlobalNil(L, name);
  wrapGlobal(L, "load", safeLoad);
  wrapGlobal(L, "setmetatable", safeSetMetatable);
  wrapGlobal(L, "rawset", safeRawset);
  lua_getglobal(L, LUA_COLIBNAME);
  lua_newtable(L);  // the coroutines the budget stopped, weak keys
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  for (const char* name : {"resume", "close"}) {  // close runs pending __close handlers
    lua_getfield(L, -2, name);
    lua_pushvalue(L, -2);
    lua_pushboolean(L, std::strcmp(name, "close") == 0);
    lua_pushcclosure(L, &LuaSandbox::onCoroutine, 3);
    lua_setfield(L, -3, name);
  }
  lua_pop(L, 2);
  // coroutine.wrap on top of the wrapped resume (the built-in one resumes
  // directly): like the built-in, an error closes the coroutine and a
  // string error gets the caller's position.
  static const char kWrap[] = R"lua(
    local create, resume, close, status, error, type =
      coroutine.create, coroutine.resume, coroutine.close, coroutine.status, error, type
    coroutine.wrap = function(f)
      if type(f) ~= "function" then
        error("bad argument #1 to 'wrap' (function expected, got " .. type(f) .. ")", 2)
      end
      local co = create(f)
      local function pass(ok, ...)
        if ok then return ... end
        local message = ...
        if status(co) == "dead" then close(co) end
        error(message, type(message) == "string" and 2 or 0)
      end
      return function(...) return pass(resume(co, ...)) end
    end)lua";
  if (luaL_loadbufferx(L, kWrap, sizeof kWrap - 1, "=sandbox", "t") != LUA_OK) return lua_error(L);
  lua_call(L, 0, 0);
  lua_pushcfunction(L, safeCollectGarbage);
  lua_setglobal(L, "collectgarbage");

  lua_getglobal(L, LUA_STRLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "dump");
  // Pattern functions the CPU budget can stop (lua_pattern.h says why).
  static const LoopBudget kLoopBudget{&LuaSandbox::overrun, &LuaSandbox::raiseOverrun};
  installBoundedPatterns(L, -1, &kLoopBudget);
  lua_pop(L, 1);
  // And the other library loops it could not reach (lua_bounded_library.h).
  installBoundedLibrary(L, &kLoopBudget, of(L).cap_);
  lua_pushliteral(L, "");
  if (lua_getmetatable(L, -1)) {
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 1);
  }
  lua_pop(L, 1);

  lua_pushcfunction(L, luaopen_os);
  lua_call(L, 0, 1);
  lua_createtable(L, 0, 3);
  for (const char* name : {"time", "clock", "date"}) {
    lua_getfield(L, -2, name);
    lua_setfield(L, -2, name);
  }
  lua_setglobal(L, LUA_OSLIBNAME);
  lua_pop(L, 1);

  lua_getglobal(L, LUA_MATHLIBNAME);
  lua_getfield(L, -1, "randomseed");
  lua_pushinteger(L, kRandomSeed);
  lua_call(L, 1, 0);
  lua_pop(L, 1);
  return 0;
}

Status LuaSandbox::run(lua_CFunction fn, void* ud) {
  lua_State* L = L_;
  const int base = lua_gettop(L);
  budgetExceeded_ = false;
  if (lineObserver_) lua_sethook(L, &LuaSandbox::hook, LUA_MASKLINE, 0);
  lua_pushcfunction(L, messageHandler);
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  watch_->begin();
  int status = lua_pcall(L, 1, 0, base + 1);
  watch_->end();
  std::string message;
  if (status != LUA_OK) {
    std::size_t length = 0;
    const char* text = lua_tolstring(L, -1, &length);
    if (!text) {
      message = "(error without a message)";
    } else if (length > kMaxErrorMessageBytes) {
      // Logged and journalled: a policy's error must not fill the disk.
      message.assign(text, kMaxErrorMessageBytes).append("... (" + std::to_string(length) + " bytes)");
    } else {
      message.assign(text, length);
    }
  }
  lua_settop(L, base);
  bool outOfMemory = status == LUA_ERRMEM || (status != LUA_OK && endsWith(message, "not enough memory"));
  if (outOfMemory) lua_gc(L, LUA_GCCOLLECT, 0);  // give the next run its headroom back
  if (lineObserver_ || watch_->interrupted()) lua_sethook(L, nullptr, 0, 0);

  if (budgetExceeded_) return makeError(withFullChunkName(budgetMessage_));
  if (outOfMemory) return makeError("memory cap of " + std::to_string(cap_) + " bytes exceeded");
  if (status != LUA_OK) return makeError(withFullChunkName(std::move(message)));
  return Status::success();
}

void LuaSandbox::addChunkFile(const std::string& file) {
  std::string shortName = luaShortName(file);
  if (shortName.empty() || shortName == file) return;
  for (const auto& chunk : shortenedChunks_) {
    if (chunk.first == file) return;
  }
  shortenedChunks_.emplace_back(file, std::move(shortName));
}

std::string LuaSandbox::withFullChunkName(std::string message) const {
  for (const auto& [file, shortName] : shortenedChunks_) {
    for (std::size_t at = message.find(shortName); at != std::string::npos;
         at = message.find(shortName, at + file.size())) {
      message.replace(at, shortName.size(), file);
    }
  }
  return message;
}

std::string LuaSandbox::callerLocation(lua_State* L, int level) {
  lua_Debug ar;
  for (; lua_getstack(L, level, &ar); ++level) {
    if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0) continue;
    const char* source = ar.source[0] == '@' ? ar.source + 1 : ar.short_src;
    return std::string(source) + ":" + std::to_string(ar.currentline);
  }
  return "?";
}

}  // namespace trimtab
