// SPDX-License-Identifier: Apache-2.0
// The Controller's per-source and per-knob bookkeeping, and the helpers its
// files share (controller.cpp: the tick and the policies; controller_collect.cpp:
// the sources; controller_actuation.cpp: applying decisions). Private to them.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "controller/controller.h"

namespace trimtab {

struct Controller::SourceSlot {
  SourceSpec spec;
  std::unique_ptr<MetricSource> source;
  int storeId = 0;
  Seconds nextDue = 0;
  Seconds lastStart = -1;  // when the last collection started; -1: none yet
  bool inFlight = false;
  bool everOk = false;
  bool up = true;  // for up/down transition logs
  std::shared_ptr<CollectResult> result;  // filled by the worker, read on the loop thread
  std::shared_ptr<const FamilyFilter> filter;
  // A target that sends the same bad lines at every scrape would log them
  // every scrape: the warnings are logged when they change, and otherwise at
  // most every kRepeatedWarningInterval, with how many scrapes repeated them.
  std::string loggedWarnings;
  Seconds loggedAt = 0;
  std::uint64_t repeats = 0;
};

struct Controller::KnobSlot {
  KnobSpec spec;
  std::unique_ptr<Actuator> actuator;
  // An actuation that was accepted but has not taken effect yet (a pgbouncer
  // pool shrink waiting for RECONNECT, a SCAN/EXPIRE walk spread over calls)
  // is applied again until it has, at most kMaxReapplies times.
  bool reapply = false;
  int reapplies = 0;
  Seconds reapplyAt = 0;
  Decision last;
  // The knob's real value may differ from what the governor believes (a
  // proposal of the same value would be "unchanged"), so it is applied again
  // once, with this reason: a source came back after being down (its server
  // may have restarted and lost a runtime setting), or the value recovered
  // from the journal at start was clamped to new bounds, had an apply
  // without an outcome, or is a runtime setting. "" = nothing to do.
  std::string resyncReason;
  // shutdown() found an apply in flight: the baseline goes after it, or the
  // apply's late end would leave the knob away from its baseline.
  bool restoreAfterInFlight = false;
  bool restoreInFlight = false;  // the baseline's apply was sent (until it ends)
  // Failed applies in a row: the first is logged, the rest are counted (an
  // actuator whose target is down fails at every decision, and its circuit
  // breaker's refusals would flood the log), and the streak's end is logged.
  std::uint64_t failedInARow = 0;
};

namespace controller_detail {

// Next due time on a fixed cadence; after a stall, restart from now instead
// of running a burst of catch-up work.
inline Seconds advanceDue(Seconds due, Seconds now, Seconds interval) {
  Seconds next = due + interval;
  return next + Controller::kDueSlack < now ? now + interval : next;
}

inline Seconds steadySeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace controller_detail
}  // namespace trimtab
