// SPDX-License-Identifier: Apache-2.0
#include "policy/sandbox_watchdog.h"

#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <system_error>
#include <thread>

namespace trimtab {
namespace {

constexpr Seconds kMaxPeriod = 0.025;  // 40 wake-ups a second at most
constexpr Seconds kMinPeriod = 0.001;

// The slot of the run in progress on this thread (read by the handler).
thread_local SandboxWatchdog::Slot* tCurrentSlot = nullptr;

int interruptSignal() { return SIGRTMIN + 5; }

double clockSeconds(clockid_t clock) {
  timespec ts{};
  if (clock_gettime(clock, &ts) != 0) return 0;
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

SandboxWatchdog::Slot::Slot(lua_State* L, lua_Hook hook, Seconds budget) : L_(L), hook_(hook), budget_(budget) {}

SandboxWatchdog::Slot::~Slot() { SandboxWatchdog::instance().remove(this); }

void SandboxWatchdog::Slot::begin() {
  owner_ = pthread_self();
  // The thread's CPU clock; wall time if the system has none for it.
  clockid_t clock{};
  if (pthread_getcpuclockid(owner_, &clock) != 0) clock = CLOCK_MONOTONIC;
  clock_.store(clock, std::memory_order_relaxed);
  interrupted_.store(false, std::memory_order_relaxed);
  running_.store(L_, std::memory_order_relaxed);
  outerSlot_ = tCurrentSlot;
  tCurrentSlot = this;
  run_.fetch_add(1, std::memory_order_release);  // odd: running
}

void SandboxWatchdog::Slot::end() {
  {
    std::lock_guard lock(mutex_);
    run_.fetch_add(1, std::memory_order_release);  // even: no signal is sent for this run any more
  }
  tCurrentSlot = outerSlot_;
}

void SandboxWatchdog::Slot::check() {
  const std::uint64_t run = run_.load(std::memory_order_acquire);
  if ((run & 1) == 0) return;
  const double cpu = clockSeconds(clock_.load(std::memory_order_relaxed));
  if (seenRun_ != run) {  // first sight of this run: its CPU counts from here
    seenRun_ = run;
    seenCpu_ = cpu;
    return;
  }
  if (cpu - seenCpu_ < budget_) return;
  std::lock_guard lock(mutex_);  // the owner cannot finish end() (or exit) meanwhile
  if (run_.load(std::memory_order_acquire) != run) return;
  interruptRun_.store(run, std::memory_order_release);
  // Sent again every period until the run ends: a hook the owner happened
  // to clear at the same moment (a stale one on a coroutine) is set again.
  pthread_kill(owner_, interruptSignal());
}

void SandboxWatchdog::Slot::onSignal(int) {
  const int savedErrno = errno;
  Slot* slot = tCurrentSlot;
  if (slot) {
    const std::uint64_t run = slot->run_.load(std::memory_order_acquire);
    if ((run & 1) != 0 && slot->interruptRun_.load(std::memory_order_acquire) == run) {
      slot->interrupted_.store(true, std::memory_order_release);
      lua_State* thread = slot->running_.load(std::memory_order_acquire);
      lua_sethook(thread, slot->hook_, lua_gethookmask(thread) | LUA_MASKCOUNT, 1);
    }
  }
  errno = savedErrno;
}

Result<std::unique_ptr<SandboxWatchdog::Slot>> SandboxWatchdog::watch(lua_State* L, lua_Hook hook,
                                                                       Seconds budget) {
  std::unique_ptr<Slot> slot(new Slot(L, hook, budget));
  if (Status added = instance().add(slot.get()); !added.ok()) return added.error();
  return slot;
}

SandboxWatchdog& SandboxWatchdog::instance() {
  // Never destroyed: its thread may still be sleeping when the process exits.
  static SandboxWatchdog* watchdog = new SandboxWatchdog();
  return *watchdog;
}

Status SandboxWatchdog::add(Slot* slot) {
  std::lock_guard lock(mutex_);
  if (!started_) {
    struct sigaction action {};
    action.sa_handler = &Slot::onSignal;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;  // a system call the signal lands in goes on
    if (sigaction(interruptSignal(), &action, nullptr) != 0) {
      return makeError(std::string("cannot install the policy watchdog's signal: ") + std::strerror(errno));
    }
    try {
      std::thread([this] { loop(); }).detach();
    } catch (const std::system_error& e) {
      return makeError(std::string("cannot start the policy watchdog thread: ") + e.what());
    }
    started_ = true;
  }
  slots_.push_back(slot);
  updatePeriod();
  return Status::success();
}

void SandboxWatchdog::remove(Slot* slot) {
  std::lock_guard lock(mutex_);
  slots_.erase(std::remove(slots_.begin(), slots_.end(), slot), slots_.end());
  updatePeriod();
}

void SandboxWatchdog::updatePeriod() {
  Seconds smallest = kMaxPeriod * 4;
  for (const Slot* slot : slots_) smallest = std::min(smallest, slot->budget_);
  period_ = std::clamp(smallest / 4, kMinPeriod, kMaxPeriod);
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
