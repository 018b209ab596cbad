// SPDX-License-Identifier: Apache-2.0
#include "policy/sandbox_watchdog.h"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <thread>

namespace trimtab {
namespace {

constexpr Seconds kMaxPeriod = 0.025;   // 40 wake-ups a second at most while idle
constexpr Seconds kMinPeriod = 0.001;

double cpuSeconds(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;  // the thread is gone: its run is over
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

SandboxWatchdog::Slot::Slot(lua_State* L, lua_Hook hook, Seconds budget) : L_(L), hook_(hook), budget_(budget) {
  SandboxWatchdog::instance().add(this);
}

SandboxWatchdog::Slot::~Slot() { SandboxWatchdog::instance().remove(this); }

void SandboxWatchdog::Slot::begin() {
  clockid_t clock{};
  if (pthread_getcpuclockid(pthread_self(), &clock) != 0) clock = CLOCK_THREAD_CPUTIME_ID;
  clock_.store(clock, std::memory_order_relaxed);
  interrupted_.store(false, std::memory_order_relaxed);
  run_.fetch_add(1, std::memory_order_release);  // odd: running
}

void SandboxWatchdog::Slot::end() {
  std::lock_guard lock(mutex_);
  run_.fetch_add(1, std::memory_order_release);  // even: no interrupt can land after this
  threads_.clear();
}

void SandboxWatchdog::Slot::pushThread(lua_State* thread) {
  std::lock_guard lock(mutex_);
  threads_.push_back(thread);
  // Interrupted already: the coroutine must raise at once too.
  if (interrupted()) lua_sethook(thread, hook_, lua_gethookmask(thread) | LUA_MASKCOUNT, 1);
}

void SandboxWatchdog::Slot::popThread() {
  std::lock_guard lock(mutex_);
  if (!threads_.empty()) threads_.pop_back();
}

void SandboxWatchdog::Slot::check() {
  const std::uint64_t run = run_.load(std::memory_order_acquire);
  if ((run & 1) == 0) return;
  const double cpu = cpuSeconds(clock_.load(std::memory_order_relaxed));
  if (seenRun_ != run) {  // first sight of this run: its CPU counts from here
    seenRun_ = run;
    seenCpu_ = cpu;
    return;
  }
  if (cpu - seenCpu_ < budget_) return;
  std::lock_guard lock(mutex_);
  if (run_.load(std::memory_order_acquire) != run || interrupted()) return;
  interrupted_.store(true, std::memory_order_release);
  lua_sethook(L_, hook_, lua_gethookmask(L_) | LUA_MASKCOUNT, 1);
  for (lua_State* thread : threads_) lua_sethook(thread, hook_, lua_gethookmask(thread) | LUA_MASKCOUNT, 1);
}

SandboxWatchdog& SandboxWatchdog::instance() {
  // Never destroyed: its thread may still be sleeping when the process exits.
  static SandboxWatchdog* watchdog = new SandboxWatchdog();
  return *watchdog;
}

SandboxWatchdog::SandboxWatchdog() = default;

void SandboxWatchdog::add(Slot* slot) {
  std::lock_guard lock(mutex_);
  slots_.push_back(slot);
  period_ = std::clamp(slot->budget_ / 4, kMinPeriod, std::min(period_, kMaxPeriod));
  if (!started_) {
    started_ = true;
    std::thread([this] { loop(); }).detach();
  }
}

void SandboxWatchdog::remove(Slot* slot) {
  std::lock_guard lock(mutex_);
  slots_.erase(std::remove(slots_.begin(), slots_.end(), slot), slots_.end());
}

void SandboxWatchdog::loop() {
  for (;;) {
    Seconds period;
    {
      std::lock_guard lock(mutex_);
      for (Slot* slot : slots_) slot->check();
      period = period_;
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(period));
  }
}

}  // namespace trimtab
