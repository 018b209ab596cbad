// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <pthread.h>

#include <atomic>
#include <cstdint>
#include <ctime>
#include <memory>
#include <mutex>
#include <vector>

#include <lua.hpp>

#include "common/clock.h"
#include "common/result.h"

namespace trimtab {

// Stops Lua runs that use more CPU than their budget, from one thread for the
// whole process, so that a run pays nothing per VM instruction.
//
// Why not a count hook: Lua 5.4 enters luaG_traceexec at every instruction
// while a count hook is set, whatever its interval (measured: 7 % of the
// simulator's month benchmark).
//
// How: the watchdog thread samples, every `period`, the CPU clock of the
// thread running each sandbox (CLOCK_THREAD_CPUTIME_ID: a run waiting for a
// core on a busy machine is not charged; the host work of its ctx calls is).
// It counts from the first sample that sees a run, so a run is stopped after
// between `budget` and `budget` + 2 periods of CPU. A run over its budget gets
// a signal on its own thread, re-sent every period until the run ends; the
// handler sets a count-1 hook on the innermost Lua thread running (as lua.c
// does on SIGINT: Lua allows lua_sethook in a signal handler, not from another
// thread), and the hook raises. A C function that never returns cannot be
// stopped: the sandbox's pattern functions, the one library call that could
// run for ever, poll interrupted() themselves (lua_pattern.h).
class SandboxWatchdog {
 public:
  // What the watchdog shares with one sandbox. The owner (the sandbox) calls
  // begin()/end() around each run on the thread that runs it.
  class Slot {
   public:
    ~Slot();
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    void begin();
    void end();
    // True once the current run overran (set by the signal handler).
    bool interrupted() const { return interrupted_.load(std::memory_order_acquire); }
    Seconds budget() const { return budget_; }
    // The Lua thread now running (a coroutine being resumed, or back to the
    // one that resumed it): where the interrupt's hook goes. Owner thread only.
    lua_State* running() const { return running_.load(std::memory_order_relaxed); }
    void setRunning(lua_State* thread) { running_.store(thread, std::memory_order_release); }

   private:
    friend class SandboxWatchdog;
    Slot(lua_State* L, lua_Hook hook, Seconds budget);
    void check();                       // watchdog thread
    static void onSignal(int signal);   // owner thread, in the handler

    lua_State* L_;
    lua_Hook hook_;
    Seconds budget_;
    std::mutex mutex_;                     // orders a signal against the end of a run
    std::atomic<std::uint64_t> run_{0};    // odd while a run is in progress
    std::atomic<std::uint64_t> interruptRun_{0};  // the run the watchdog stops
    std::atomic<bool> interrupted_{false};
    std::atomic<lua_State*> running_{nullptr};
    pthread_t owner_{};                    // written before run_ turns odd; read under mutex_
    std::atomic<clockid_t> clock_{};
    Slot* outerSlot_ = nullptr;            // the thread's slot before begin()
    // Watchdog-thread bookkeeping.
    std::uint64_t seenRun_ = 0;
    double seenCpu_ = 0;
  };

  // A slot for a sandbox whose state is `L`; `hook` raises when interrupted.
  // Fails when the watchdog thread or its signal cannot be set up.
  static Result<std::unique_ptr<Slot>> watch(lua_State* L, lua_Hook hook, Seconds budget);

 private:
  SandboxWatchdog() = default;
  static SandboxWatchdog& instance();
  Status add(Slot* slot);
  void remove(Slot* slot);
  void updatePeriod();  // REQUIRES: mutex_
  void loop();

  std::mutex mutex_;
  std::vector<Slot*> slots_;
  Seconds period_ = 0.025;
  bool started_ = false;
};

}  // namespace trimtab
