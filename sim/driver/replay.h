// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "controller/config.h"
#include "controller/controller.h"
#include "recording.h"

namespace trimtab::sim {

// Replays a recording as a metric source: a collection at time `now` delivers
// every recorded sample with a time in (previous collection, now], with its
// own timestamp, filtered like a scrape. Never fails.
class ReplaySource final : public MetricSource {
 public:
  explicit ReplaySource(const Recording& recording, const Clock& clock) : recording_(recording), clock_(clock) {}
  CollectResult collect(const FamilyFilter& filter) override;

 private:
  const Recording& recording_;
  const Clock& clock_;
  std::size_t cursor_ = 0;
};

struct ReplaySetup {
  Config config;          // policies, knobs (their actuators are never called), store, policy limits
  Seconds interval = 0;   // collection interval; 0: the recording's spacing, else 10 s
};

struct ReplayKnobSummary {
  double baseline = 0, last = 0, min = 0, max = 0;
  std::size_t changes = 0;  // dry-run verdicts: changes enforce mode would have made
};

struct ReplayResult {
  ControllerStats stats;
  Seconds start = 0, end = 0, interval = 0;
  std::map<std::string, ReplayKnobSummary> knobs;
};

// Runs the config's policies over the recording in dry-run (whatever the
// config's mode): the store, policy engine and governor of production, no
// model and no actuator. Every journal record (decisions of every verdict,
// events) goes to `onRecord` as it happens, in time order. Errors: no policy,
// a policy that does not load (file:line), an empty recording.
Result<ReplayResult> runReplay(const Recording& recording, ReplaySetup setup,
                               const std::function<void(const JournalRecord&)>& onRecord);

// "--knob" syntax: NAME[=BASELINE][,min=X][,max=Y][,max_step=S][,cooldown=D]
// [,deadband=B][,type=int|float]. Without a baseline, the first recorded
// value of the series NAME (no labels). Defaults: min 0, max 1e15, int when
// the baseline is whole.
Result<KnobSpec> parseKnobOption(const std::string& text, const Recording& recording);

// One line per record: "2024-05-01T12:00:05Z  pool_size  db_pool_size 20 -> 25
// (proposed 30, max step 5)  dry_run  3.2 clients waiting". Times above 1e9
// print as UTC dates, others as virtual time (+1d 02:03:04).
std::string formatReplayRecord(const JournalRecord& record);
std::string formatReplayTime(Seconds t);

}  // namespace trimtab::sim
