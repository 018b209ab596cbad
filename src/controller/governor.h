// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>
#include <vector>

#include "controller/decision.h"
#include "controller/knob.h"

namespace trimtab {

// Rule 4 alone: `value` clamped to the knob's [min, max], and rounded to the
// nearest whole number inside them for an integer knob. NaN stays NaN.
double withinKnob(const KnobSpec& spec, double value);

// Passes every proposal through the knob's rules, in this order:
//  1. unknown knob, NaN or infinite value -> Vetoed
//  2. any input stale or missing -> Vetoed ("stale input ...")
//  3. conflict: several proposals for one knob in one round -> the highest
//     priority wins, then the earliest in config order, then (one policy
//     proposing twice) its last proposal; losers are Vetoed ("lost to policy X
//     (priority P)"). Only proposals that passed 1-2 compete.
//  4. clamp to [min, max]; integer knobs rounded to nearest
//  5. |decided - current| < deadband (or == 0) -> Unchanged
//  6. an actuation of this knob still in flight, or the cooldown since the
//     last change not over -> Vetoed
//  7. max changes per hour (sliding hour) reached -> Vetoed
//  8. max step: move at most maxStep toward the proposal (integer knobs move
//     by whole steps and stay integer)
//  9. dry-run (global or knob) -> DryRun, else Apply
// Decision::rule explains every change or refusal, joined by "; " (e.g.
// "clamped to max 50; max step 5"). For Unchanged and Vetoed, decided ==
// previous == the knob's current value.
//
// A decision with verdict Apply updates the knob's current value and change
// history immediately (optimistically); markFailed() reverts it. DryRun does
// the same to the knob's shadow state: in dry-run the knob's current value is
// what enforce mode would have set, so a dry-run journal shows the trajectory
// (and the cooldowns and rate limits) that enforce mode would take.
//
// Thread safety: none; owned by the loop thread.
class Governor {
 public:
  explicit Governor(bool globalDryRun = false) : globalDryRun_(globalDryRun) {}

  // Adds a knob at its baseline. Adding a known name again replaces its spec
  // and keeps its current value and history (config reload).
  void addKnob(const KnobSpec& spec);
  // Sets a knob's current value without a decision (journal recovery, start-up).
  // Unknown knobs are ignored.
  void setCurrent(const std::string& knob, double value);
  const KnobState* knob(const std::string& name) const;
  const std::map<std::string, KnobState>& knobs() const { return knobs_; }

  // One round: all proposals of the policies evaluated at time `now`. Returns
  // one decision per proposal, in the proposals' order.
  std::vector<Decision> decide(const std::vector<Proposal>& proposals, Seconds now);

  // The actuator failed: the change made at `changeTime` no longer counts
  // against cooldown and rate limits, and the knob goes back to `previous`
  // unless a later change was decided meanwhile (that one stands).
  void markFailed(const std::string& knob, double previous, Seconds changeTime);
  void setPending(const std::string& knob, bool pending);

 private:
  void applyRules(KnobState& state, Decision& d, Seconds now);

  bool globalDryRun_;
  std::map<std::string, KnobState> knobs_;
  std::map<std::string, std::vector<Seconds>> changeTimes_;  // recent changes, oldest first
};

}  // namespace trimtab
