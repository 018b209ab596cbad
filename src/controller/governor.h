// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/decision.h"
#include "controller/knob.h"

namespace trimtab {

// Passes every proposal through the knob's rules, in this order:
//  1. unknown knob, NaN or infinite value -> Vetoed
//  2. any input stale or missing -> Vetoed ("stale input ...")
//  3. conflict: several proposals for one knob in one round -> the highest
//     priority wins, then the earliest in config order; losers are Vetoed
//  4. clamp to [min, max]; integer knobs rounded to nearest
//  5. |decided - current| < deadband (or == 0) -> Unchanged
//  6. cooldown since the last change not over -> Vetoed
//  7. max changes per hour reached -> Vetoed
//  8. max step: move at most maxStep toward the proposal
//  9. dry-run (global or knob) -> DryRun, else Apply
// A decision with verdict Apply updates the knob's current value and
// change history immediately (optimistically); markFailed() reverts it.
//
// Thread safety: none; owned by the loop thread.
class Governor {
 public:
  explicit Governor(bool globalDryRun = false) : globalDryRun_(globalDryRun) {}

  void addKnob(const KnobSpec& spec);
  // Sets a knob's current value without a decision (journal recovery, start-up).
  void setCurrent(const std::string& knob, double value);
  const KnobState* knob(const std::string& name) const;
  const std::map<std::string, KnobState>& knobs() const { return knobs_; }

  // One round: all proposals of the policies evaluated at time `now`.
  std::vector<Decision> decide(const std::vector<Proposal>& proposals, Seconds now);

  // The actuator failed: the knob goes back to `previous` and the change no
  // longer counts against cooldown and rate limits.
  void markFailed(const std::string& knob, double previous, Seconds changeTime);
  void setPending(const std::string& knob, bool pending);

 private:
  bool globalDryRun_;
  std::map<std::string, KnobState> knobs_;
  std::map<std::string, std::vector<Seconds>> changeTimes_;  // last hour, per knob
};

}  // namespace trimtab
