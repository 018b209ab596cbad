// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <mutex>
#include <vector>

#include <lua.hpp>

#include "common/clock.h"

namespace trimtab {

// Stops Lua runs that use more CPU than their budget, from one thread for the
// whole process, so that a run pays nothing per VM instruction.
//
// Why not a count hook: Lua 5.4 enters luaG_traceexec at every instruction
// while a count hook is set, whatever its interval (measured: 7 % of the
// simulator's month benchmark). Lua allows lua_sethook to be called
// asynchronously (lua.c does it from a signal handler); the watchdog sets a
// count hook of 1 on a run that overran, and the hook raises.
//
// Budget accounting: CPU time of the thread running the sandbox
// (CLOCK_THREAD_CPUTIME_ID), so a run waiting for a core on a busy machine is
// not charged. The watchdog samples every `period` and counts from the first
// sample that sees a run, so a run is stopped after between `budget` and
// `budget` + 2 periods of CPU. A C function that never returns (none of the
// sandbox's libraries has one) cannot be stopped.
class SandboxWatchdog {
 public:
  // What the watchdog shares with one sandbox. The owner (the sandbox) calls
  // begin()/end() around each run on the thread that runs it.
  class Slot {
   public:
    Slot(lua_State* L, lua_Hook hook, Seconds budget);
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    void begin();
    void end();
    // True once the running run overran (read from the hook).
    bool interrupted() const { return interrupted_.load(std::memory_order_acquire); }
    Seconds budget() const { return budget_; }
    // A coroutine about to be resumed by the running run / finished resuming:
    // an interrupt must reach the innermost running thread.
    void pushThread(lua_State* thread);
    void popThread();

   private:
    friend class SandboxWatchdog;
    // Called by the watchdog thread.
    void check();

    lua_State* L_;
    lua_Hook hook_;
    Seconds budget_;
    std::mutex mutex_;                 // orders an interrupt against the end of a run
    std::atomic<std::uint64_t> run_{0};  // odd while a run is in progress
    std::atomic<clockid_t> clock_{};      // CPU clock of the thread running it
    std::atomic<bool> interrupted_{false};
    std::vector<lua_State*> threads_;  // resumed coroutines, innermost last (under mutex_)
    // Watchdog-thread bookkeeping.
    std::uint64_t seenRun_ = 0;
    double seenCpu_ = 0;
  };

  static SandboxWatchdog& instance();

 private:
  friend class Slot;
  SandboxWatchdog();
  void add(Slot* slot);
  void remove(Slot* slot);
  void loop();

  std::mutex mutex_;
  std::vector<Slot*> slots_;
  Seconds period_ = 0.025;
  bool started_ = false;
};

}  // namespace trimtab
