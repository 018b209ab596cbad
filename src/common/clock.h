// SPDX-License-Identifier: Apache-2.0
#pragma once

namespace trimtab {

// Time in trimtab is seconds as a double: Unix time live, virtual time in the
// simulator. Doubles keep sub-microsecond precision for centuries, and Lua sees
// the same numbers the controller does.
using Seconds = double;

// 9999-12-31T23:59:59Z as Unix time: the last moment a date is printed for.
// Times read from files (journal, recordings) can be anything; past this a
// cast to time_t may overflow, and no calendar time was meant anyway.
inline constexpr Seconds kLatestCalendarTime = 253402300799.0;

// Everything that needs the time gets it from an injected Clock, never from the
// system directly, so the simulator and tests control it.
class Clock {
 public:
  virtual ~Clock() = default;
  // Current time. Monotonic for a given clock except across explicit set().
  virtual Seconds now() const = 0;
};

// Wall-clock time (CLOCK_REALTIME, for journal timestamps that humans read).
class SystemClock final : public Clock {
 public:
  Seconds now() const override;
};

// A clock that moves only when told: the simulator's virtual clock and the
// tests' fake clock.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(Seconds start = 0) : now_(start) {}
  Seconds now() const override { return now_; }
  void set(Seconds t) { now_ = t; }
  void advance(Seconds dt) { now_ += dt; }

 private:
  Seconds now_;
};

}  // namespace trimtab
