// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>

#include "controller/compile.h"
#include "controller/source_intervals.h"

namespace trimtab {

struct LiveOptions {
  Seconds duration = 0;         // stop by itself after this long; 0: until SIGTERM/SIGINT
  bool printDecisions = false;  // one line per decision and outcome on `out`
  bool printSummary = false;    // a summary of the run on `out` at exit
  // Called when work still runs after kShutdownGrace and the process exits
  // without it (std::_Exit): the app stops what would outlive it (exec
  // commands' process groups). Empty: nothing to stop.
  std::function<void()> onAbandon;
};

// Timing bounds of the live loop.
inline constexpr int kWorkerThreads = 4;              // blocking scrapes and actuations
inline constexpr Seconds kShutdownGrace = 15;         // wait for in-flight work at exit
inline constexpr Seconds kPolicyWatchInterval = 1;    // how often policy files are checked
inline constexpr double kHealthyTickFactor = 5;       // /healthz fails after this many missed ticks

// Runs the controller live: a steady timer drives tick(), scrapes and
// actuations run on a worker pool, the own HTTP server (/metrics, /healthz,
// /readyz) on its own thread. SIGHUP reloads every policy; SIGTERM/SIGINT
// finish the tick, restore baselines where configured, flush the journal and
// return 0. Returns 1 when start-up fails (the error is logged).
int runLive(CompiledConfig compiled, std::shared_ptr<SourceIntervals> intervals,
            const LiveOptions& options, std::ostream& out);

}  // namespace trimtab
