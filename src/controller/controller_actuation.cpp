// SPDX-License-Identifier: Apache-2.0
// The Controller's actuation: dispatching a decision to its actuator off the
// loop thread, taking in the outcome, applying again what has not taken
// effect yet or what a restarted server lost.
#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "controller/controller.h"
#include "controller/controller_slots.h"
#include "controller/own_metrics.h"

namespace trimtab {

using controller_detail::steadySeconds;

namespace {

// How often, and how many times, an accepted but not yet effective change is
// applied again before trimtab gives up and says so in the journal.
constexpr Seconds kReapplyInterval = 2;
constexpr int kMaxReapplies = 30;

}  // namespace

void Controller::reapplyNotYetEffective(Seconds now) {
  for (auto& [name, slot] : knobs_) {
    if (!slot->reapply || now < slot->reapplyAt) continue;
    const KnobState* state = governor_.knob(name);
    if (!state || state->pending) continue;
    slot->reapply = false;
    Decision again = slot->last;
    again.time = now;
    again.policy = "controller";
    again.reason = "not yet effective: apply " + std::to_string(slot->reapplies + 1) + " of at most " +
                   std::to_string(kMaxReapplies);
    again.previous = state->current;
    journalAndDispatch(again);
  }
}

void Controller::markForResync(const std::string& source) {
  if (config_.dryRun) return;
  for (auto& [name, slot] : knobs_) {
    const KnobState* state = governor_.knob(name);
    if (!slot->actuator || !slot->actuator->losesSettingOnRestart() || !state || slot->spec.dryRun) continue;
    // At its baseline the knob holds what a restarted server starts with.
    if (state->current == slot->spec.baseline) continue;
    slot->resyncReason = "source " + source + " is back: applied again, a restarted server loses runtime settings";
  }
}

void Controller::resyncSettings(Seconds now) {
  for (auto& [name, slot] : knobs_) {
    if (slot->resyncReason.empty()) continue;
    const KnobState* state = governor_.knob(name);
    if (!state || state->pending) continue;  // after the apply in flight
    if (!(state->current >= slot->spec.min && state->current <= slot->spec.max)) {  // never out of bounds
      slot->resyncReason.clear();
      continue;
    }
    Decision again;
    again.time = now;
    again.policy = "controller";
    again.knob = name;
    again.proposed = again.decided = again.previous = state->current;
    again.verdict = Verdict::Apply;
    again.reason = std::move(slot->resyncReason);
    slot->resyncReason.clear();
    journalAndDispatch(again);
  }
}

void Controller::journalAndDispatch(const Decision& decision) {
  JournalRecord rec;  // kind "decision"
  rec.decision = decision;
  record(rec);
  dispatch(decision);
}

void Controller::dispatch(const Decision& decision) {
  auto it = knobs_.find(decision.knob);
  if (it == knobs_.end() || !it->second->actuator) return;
  Actuator* actuator = it->second->actuator.get();
  governor_.setPending(decision.knob, true);
  ++inFlight_;
  ActuationRequest request{decision.knob, decision.decided, decision.previous, decision.reason, decision.time};
  auto outcome = std::make_shared<ActuationOutcome>();
  runner_.submit(
      [actuator, request, outcome] {
        Seconds t0 = steadySeconds();
        *outcome = actuator->apply(request);
        outcome->latency = steadySeconds() - t0;
      },
      [this, decision, outcome] {
        --inFlight_;
        governor_.setPending(decision.knob, false);
        KnobSlot& slot = *knobs_.at(decision.knob);
        if (outcome->ok) {
          ++stats_.actuationsOk;
          if (slot.failedInARow > 0) {
            spdlog::info("knob {}: applying works again after {} failed applies", decision.knob, slot.failedInARow);
            slot.failedInARow = 0;
          }
          if (!outcome->effective && slot.reapplies < kMaxReapplies) {
            slot.reapply = true;
            ++slot.reapplies;
            slot.reapplyAt = clock_.now() + kReapplyInterval;
            slot.last = decision;
          } else if (!outcome->effective) {
            journalEvent("not_effective", decision.knob + ": still not effective after " +
                                              std::to_string(kMaxReapplies) + " applies: " + outcome->detail);
          } else {
            slot.reapplies = 0;
          }
        } else {
          slot.reapply = false;
          ++stats_.actuationsFailed;
          governor_.markFailed(decision.knob, decision.previous, decision.time);
          // Journalled below; logged too, so that an operator watching the
          // service's log sees a knob that does not take its value.
          if (decision.policy == "shutdown") {
            spdlog::error("knob {}: not restored to its baseline {}: {}", decision.knob, decision.decided,
                          outcome->detail);
          } else if (slot.failedInARow == 0) {
            spdlog::warn("knob {}: applying {} failed: {} (further failures are counted in "
                         "trimtab_actuator_errors_total and the journal until one succeeds)",
                         decision.knob, decision.decided, outcome->detail);
          }
          ++slot.failedInARow;
        }
        if (decision.policy == "shutdown") slot.restoreInFlight = false;
        if (outcome->ok && decision.policy == "shutdown") ++stats_.restoresOk;
        if (metrics_) metrics_->observeActuation(decision.knob, outcome->ok, outcome->effective, outcome->latency);
        JournalRecord rec;
        rec.kind = "outcome";
        rec.decision = decision;
        rec.ok = outcome->ok;
        rec.effective = outcome->effective;
        rec.detail = outcome->detail;
        rec.attempts = outcome->attempts;
        rec.actuatorLatency = outcome->latency;
        record(rec);
        if (stopping_ && slot.restoreAfterInFlight) {
          slot.restoreAfterInFlight = false;
          dispatchRestore(decision.knob);
        }
        stopWhenSettled();
      });
}

}  // namespace trimtab
