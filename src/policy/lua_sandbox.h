// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <lua.hpp>

#include "common/clock.h"
#include "common/result.h"
#include "policy/sandbox_watchdog.h"

namespace trimtab {

// Told of every line a Lua function of a sandbox starts to run (Lua's line
// hook), for line coverage (`trimtab test --coverage`). Called from inside the
// hook: it must not throw, raise or call into Lua.
class LineObserver {
 public:
  virtual ~LineObserver() = default;
  // `source` names the chunk as Lua does ("@policies/x.lua" for a file).
  virtual void onLine(const char* source, int line) = 0;
};

// run()'s error message is cut to this many bytes (it is logged and
// journalled at every failing tick).
inline constexpr std::size_t kMaxErrorMessageBytes = 1024;

// One sandboxed Lua 5.4 state: its own allocator with a byte cap, a CPU
// budget per run (enforced by SandboxWatchdog, at no cost per instruction),
// and a standard library without escape hatches.
//
// What a chunk can reach: the base library without dofile/loadfile/warn
// (load() accepts text chunks only; print() is rebound by the policy
// context), collectgarbage("count") only, string without string.dump (and a
// string metatable that getmetatable() does not reveal), table, math (seeded
// with a fixed seed, so runs are reproducible), utf8, coroutine, and os with
// time/clock/date only. No io, package, debug; policies get a require
// limited to their library directories (policy_library.h). coroutine.resume,
// close and wrap are wrapped so that an overrun stops the coroutine running,
// and a coroutine an overrun stopped cannot be closed later (its __close
// handlers would run with its hooks off, past any budget).
//
// Errors and C++: Lua here is the C build, so a Lua error longjmps. Every Lua
// API call that can raise runs inside run(), and the C functions it calls keep
// no C++ object with a destructor alive across a call that can raise; they
// write into objects that outlive the protected call instead.
//
// Thread safety: one thread at a time (the loop thread, or a simulator
// worker); the CPU budget's watchdog (SandboxWatchdog) is the only other
// thread that touches it, through a signal to the running thread.
class LuaSandbox {
 public:
  // Fails when even an empty state does not fit under `memoryCapBytes`.
  static Result<std::unique_ptr<LuaSandbox>> create(Seconds cpuBudget, std::size_t memoryCapBytes);
  ~LuaSandbox();
  LuaSandbox(const LuaSandbox&) = delete;
  LuaSandbox& operator=(const LuaSandbox&) = delete;

  lua_State* state() const { return L_; }

  // The file whose chunks run here: names it in full in error messages (Lua
  // itself shortens long chunk names to "...tail").
  void setChunkFile(const std::string& file);
  const std::string& chunkFile() const { return chunkFile_; }
  // Another file whose chunks run here (a library module): named in full in
  // error messages too.
  void addChunkFile(const std::string& file);

  // Reports every line that runs from the next run() on to `observer`; null
  // (the default) turns it off. Costs a call per line: for tests. The
  // observer must outlive the runs it observes.
  void setLineObserver(LineObserver* observer) { lineObserver_ = observer; }

  // Calls fn(L) with `ud` as its one (light userdata) argument, in protected
  // mode, under a fresh CPU budget. The stack is restored afterwards.
  // Errors: the Lua error ("file:line: message"), "file:line: CPU budget of
  // 50ms exceeded" (even when the chunk caught it with pcall), or "memory cap
  // of N bytes exceeded" (then a full GC has run).
  Status run(lua_CFunction fn, void* ud);

  // Bytes currently allocated by this state.
  std::size_t memoryUsed() const { return used_; }
  std::size_t memoryCap() const { return cap_; }
  Seconds cpuBudget() const { return budget_; }

  // The sandbox owning `L` (any thread of it).
  static LuaSandbox& of(lua_State* L);

  // "file:line" of the innermost Lua function on L's stack at or above
  // `level` (C functions are skipped); "?" when there is none.
  static std::string callerLocation(lua_State* L, int level);

 private:
  LuaSandbox(Seconds cpuBudget, std::size_t memoryCapBytes);
  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize);
  static void hook(lua_State* L, lua_Debug* ar);
  static void countHook(lua_State* L);
  static int openLibraries(lua_State* L);
  static int onCoroutine(lua_State* L);
  static int raiseOverrun(lua_State* L);  // raises: never returns
  static bool overrun(lua_State* L);      // the run in progress is over its budget
  std::string withFullChunkName(std::string message) const;

  lua_State* L_ = nullptr;
  std::size_t used_ = 0;
  std::size_t cap_;
  Seconds budget_;
  std::unique_ptr<SandboxWatchdog::Slot> watch_;  // before L_ is closed, it is gone
  bool budgetExceeded_ = false;
  std::string budgetMessage_;
  std::string chunkFile_;
  // (file, how Lua shortens it in messages) for chunkFile_ and the library
  // modules, where the two differ.
  std::vector<std::pair<std::string, std::string>> shortenedChunks_;
  LineObserver* lineObserver_ = nullptr;
};

}  // namespace trimtab
