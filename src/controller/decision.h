// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/clock.h"

namespace trimtab {

// One metric read that a policy made during a tick; a decision carries them so
// the journal says why, and the governor vetoes decisions built on stale data.
struct InputRead {
  std::string what;   // e.g. "avg(http_latency_seconds{route=\"/api\"}[5m])"
  double value = 0;   // NaN when missing
  bool stale = false;
  bool missing = false;
};

// A read that found no data, reported after the tick (trimtab test's failure
// messages, the simulator's warnings): the metric family it asked for ("" when
// the read names none) and the read as the journal shows it.
struct MissingRead {
  std::string metric;
  std::string what;
  std::string knob;  // ctx.knob() of a knob the controller does not govern ("" for metric reads)
};
// Bound on the missing reads reported per tick: enough to name a misspelt metric.
inline constexpr std::size_t kMaxReportedMissing = 8;

// A policy's wish for one knob.
struct Proposal {
  std::string policy;
  int priority = 0;          // higher wins a conflict (config `priority`)
  int order = 0;             // position in the config; the earlier wins a tie
  std::string knob;
  double value = 0;
  std::string reason;
  std::string location;      // "policies/pool.lua:42": where propose() was called
  std::vector<InputRead> inputs;
};

enum class Verdict {
  Apply,     // to be applied by the actuator
  DryRun,    // would apply; mode or knob is dry-run
  Unchanged, // within the deadband, or equal to the current value
  Vetoed,    // a rule refused it (reason in `rule`)
};
const char* verdictName(Verdict v);

// The governor's answer to one proposal.
struct Decision {
  Seconds time = 0;
  std::string policy;
  std::string knob;
  double proposed = 0;
  double decided = 0;    // after clamp and max-step; equals previous when not applied
  double previous = 0;
  std::string reason;    // the policy's reason
  std::string location;
  std::vector<InputRead> inputs;
  Verdict verdict = Verdict::Vetoed;
  std::string rule;      // why the governor changed or refused it: "clamped to max 50",
                         // "max step 5", "cooldown 28s left", "stale input ...", "NaN proposal",
                         // "lost to policy X (priority 10)"
};

}  // namespace trimtab
