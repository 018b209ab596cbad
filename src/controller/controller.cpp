// SPDX-License-Identifier: Apache-2.0
#include "controller/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "controller/controller_slots.h"
#include "controller/own_metrics.h"

namespace trimtab {

using controller_detail::advanceDue;
using controller_detail::steadySeconds;

Controller::Controller(CompiledConfig compiled, std::shared_ptr<SourceIntervals> intervals,
                       const Clock& clock, TaskRunner& runner, OwnMetrics* metrics)
    : config_(std::move(compiled.config)),
      intervals_(std::move(intervals)),
      clock_(clock),
      runner_(runner),
      metrics_(metrics),
      store_(config_.store),
      governor_(config_.dryRun) {
  for (auto& s : compiled.sources) {
    auto slot = std::make_unique<SourceSlot>();
    slot->spec = s.spec;
    slot->source = std::move(s.source);
    slot->storeId = store_.registerSource(s.spec.name);
    sources_.push_back(std::move(slot));
  }
  for (auto& k : compiled.knobs) {
    governor_.addKnob(k.spec);
    auto slot = std::make_unique<KnobSlot>();
    slot->spec = k.spec;
    slot->actuator = std::move(k.actuator);
    knobs_.emplace(k.spec.name, std::move(slot));
  }
  engine_ = std::make_unique<PolicyEngine>(config_.policyLimits, *this);
  // Only the own metrics read a tick's duration: the simulator, without
  // them, skips two clock reads per policy tick.
  engine_->setTimed(metrics_ != nullptr);
}

Controller::~Controller() = default;

Status Controller::start() {
  if (!config_.journal.path.empty()) {
    auto recovery = journal_.open(config_.journal);
    if (!recovery.ok()) return recovery.error();
    for (const auto& w : recovery->warnings) spdlog::warn("journal: {}", w);
    recoverKnobs(*recovery);
  }
  for (const auto& spec : config_.policies) {
    Status added = engine_->add(spec);
    if (!added.ok()) return added.error();
  }
  Seconds now = clock_.now();
  for (const auto& name : engine_->names()) policyDue_[name] = now;
  for (auto& slot : sources_) slot->nextDue = now;
  journalEvent("start", "service " + config_.service + (config_.dryRun ? " (dry-run)" : ""));
  return Status::success();
}

void Controller::recoverKnobs(const JournalRecovery& recovery) {
  // Applied again at the first tick when the service may hold another value
  // than the one trimtab takes from the journal.
  auto resync = [this](KnobSlot& slot, std::string why) {
    if (slot.actuator && !config_.dryRun && !slot.spec.dryRun) slot.resyncReason = std::move(why);
  };
  auto noOutcome = [&](const std::string& knob, double applying, double believed, KnobSlot& slot) {
    spdlog::warn("knob {}: the journal has no outcome for the apply of {} (trimtab stopped while it ran); "
                 "its value is unknown, {} is applied again",
                 knob, applying, believed);
    resync(slot, fmt::format("the apply of {} before the restart has no outcome: applied again", applying));
  };
  for (const auto& [knob, value] : recovery.lastApplied) {
    const KnobState* state = governor_.knob(knob);
    if (!state) continue;  // a knob removed from the config since
    KnobSlot& slot = *knobs_.at(knob);
    if (!std::isfinite(value)) {
      // Only a damaged or hand-edited journal holds one: trimtab never
      // applies a value that is not a finite number.
      spdlog::warn("knob {}: the journal's last applied value is {}; the knob starts at its baseline {}, "
                   "applied again", knob, value, state->spec.baseline);
      resync(slot, fmt::format("recovered {} is not a number: the baseline applied", value));
      continue;
    }
    // The bounds may have changed since (or the knob became an integer
    // one): what trimtab believes, and applies again, stays within the
    // ones configured now.
    const double within = withinKnob(state->spec, value);
    governor_.setCurrent(knob, within);
    spdlog::info("knob {} recovered at {} from the journal", knob, within);
    if (within != value) {
      spdlog::warn("knob {}: {} from the journal is outside its bounds [{}, {}]{}; taken as {} and applied", knob,
                   value, state->spec.min, state->spec.max, state->spec.integer ? " or not a whole number" : "",
                   within);
      resync(slot, fmt::format("recovered {} is outside the bounds: applied within them", value));
    } else if (auto it = recovery.unfinished.find(knob); it != recovery.unfinished.end()) {
      noOutcome(knob, it->second, within, slot);
    } else if (slot.actuator && slot.actuator->losesSettingOnRestart() && within != slot.spec.baseline) {
      resync(slot, "recovered from the journal: applied again, the server may have restarted meanwhile");
    }
  }
  // A knob whose only apply never finished has no recovered value: the
  // service holds the baseline or that value, so the baseline is applied.
  for (const auto& [knob, value] : recovery.unfinished) {
    const KnobState* state = governor_.knob(knob);
    if (recovery.lastApplied.count(knob) || !state) continue;
    noOutcome(knob, value, state->current, *knobs_.at(knob));
  }
}

std::vector<std::string> Controller::knobNames() const {
  std::vector<std::string> names;
  for (const auto& [name, _] : governor_.knobs()) names.push_back(name);
  return names;
}

bool Controller::ready() const {
  for (const auto& slot : sources_)
    if (!slot->everOk) return false;
  return true;
}

void Controller::tick() {
  const Seconds started = metrics_ ? steadySeconds() : 0;
  Seconds now = clock_.now();
  lastTick_ = now;
  ++stats_.ticks;

  collectDueSources(now);
  std::vector<Proposal> proposals = runDuePolicies(now);
  if (!proposals.empty()) {
    for (const Decision& decision : governor_.decide(proposals, now)) {
      JournalRecord rec;
      rec.kind = "decision";
      rec.decision = decision;
      const bool journalled = record(rec);
      if (decision.verdict == Verdict::Apply && !journalled) {
        // A change the journal does not hold would be recovered wrong after
        // a restart, and audited nowhere: the knob keeps its value until the
        // journal can be written again (logged once by record()).
        governor_.markFailed(decision.knob, decision.previous, decision.time);
        ++stats_.decisionsByVerdict["held: journal unwritable"];
        continue;
      }
      ++stats_.decisionsByVerdict[verdictName(decision.verdict)];
      if (metrics_) metrics_->countDecision(decision.knob, verdictName(decision.verdict));
      if (decision.verdict == Verdict::Apply) {
        if (auto it = knobs_.find(decision.knob); it != knobs_.end()) {
          it->second->reapply = false;
          it->second->reapplies = 0;
        }
        dispatch(decision);
      }
    }
  }
  reapplyNotYetEffective(now);
  resyncSettings(now);
  if (metrics_) {
    metrics_->setSeries(store_.seriesCount());
    metrics_->syncSeriesDropped(store_.droppedSeries());
    for (const auto& [name, state] : governor_.knobs()) metrics_->setKnobValue(name, state.current);
    metrics_->setQuarantinedPolicies(engine_->quarantinedCount());
    metrics_->observeTick(steadySeconds() - started);
  }
}

Seconds Controller::nextDue() const {
  Seconds next = std::numeric_limits<Seconds>::infinity();
  for (const auto& slot : sources_) {
    if (!slot->inFlight) next = std::min(next, dueWith(*slot, intervalOf(*slot)));
  }
  for (const auto& name : engine_->names()) {
    auto due = policyDue_.find(name);
    next = std::min(next, due == policyDue_.end() ? clock_.now() : due->second);  // added by a reload: due now
  }
  return next;
}

std::vector<Proposal> Controller::runDuePolicies(Seconds now) {
  std::vector<Proposal> proposals;
  for (const auto& name : engine_->names()) {
    auto due = policyDue_.try_emplace(name, now).first;  // a policy added by reload is due now
    if (now + Controller::kDueSlack < due->second) continue;
    due->second = advanceDue(due->second, now, engine_->interval(name));
    if (engine_->quarantined(name)) continue;
    PolicyTickResult result = engine_->tick(name, now);
    ++stats_.policyTicks;
    countMissingReads(name, result.missing);
    for (const auto& line : result.logs) spdlog::info("policy {}", line);
    if (metrics_) {
      metrics_->observePolicy(name, result.duration);
      if (!result.status.ok()) metrics_->countPolicyError(name);
    }
    if (!result.status.ok()) {
      ++stats_.policyErrors;
      const std::string& message = result.status.error().message;
      spdlog::warn("policy {}: {}", name, message);
      if (engine_->quarantined(name)) {
        journalEvent("quarantine", name + ": " + message);  // carries the error
        policyFailing_.erase(name);  // a reload lifts it: its first failure is news again
        continue;
      }
      auto [failing, first] = policyFailing_.try_emplace(name, message);
      if (first || failing->second != message) {
        failing->second = message;
        journalEvent("policy_error", name + ": " + message);
      }
      continue;
    }
    policyFailing_.erase(name);
    for (auto& p : result.proposals) proposals.push_back(std::move(p));
  }
  return proposals;
}

void Controller::countMissingReads(const std::string& policy, const std::vector<MissingRead>& missing) {
  if (missing.empty()) return;  // the usual tick: nothing to count
  auto count = [](std::map<std::string, std::uint64_t>& counts, const std::string& name) {
    auto it = counts.find(name);
    if (it != counts.end()) {
      ++it->second;
    } else if (counts.size() < kMaxTrackedMissingMetrics) {
      counts.emplace(name, 1);
    }
  };
  // Every source has answered, and answers now: a read that misses while its
  // source is down says nothing about the name.
  bool sourcesAnswered = ready();
  for (const auto& slot : sources_) sourcesAnswered = sourcesAnswered && slot->up;
  std::set<std::pair<bool, std::string>> seen;  // a name counts once a tick, however many reads missed it
  for (const MissingRead& m : missing) {
    const bool knob = !m.knob.empty();
    const std::string& name = knob ? m.knob : m.metric;
    if (name.empty() || !seen.emplace(knob, name).second) continue;
    count(knob ? stats_.unknownKnobs : stats_.missingReads, name);
    if (!sourcesAnswered) continue;  // before the first scrapes nothing is there yet
    auto& tallies = stats_.missingAfterSourcesAnswered;
    auto it = tallies.find({policy, name});
    if (it == tallies.end()) {
      if (tallies.size() >= kMaxTrackedMissingMetrics) continue;
      it = tallies.emplace(std::make_pair(policy, name), ControllerStats::MissingTally{0, knob, m.what}).first;
    }
    if (++it->second.ticks != kWarnMissingAfterTicks) continue;
    // A name only a param can make optional: the hint says how.
    if (knob) {
      std::string known;
      for (const auto& [governed, _] : knobs_) known += (known.empty() ? "" : ", ") + governed;
      spdlog::warn("policy {}: ctx.knob('{}') found no such knob at {} ticks (governed: {}); if the policy "
                   "works without it, name it by a param listed in its `optional`",
                   policy, name, kWarnMissingAfterTicks, known.empty() ? "none" : known);
    } else {
      spdlog::warn("policy {}: {} found no data at {} ticks since every source answered: is the name right? "
                   "(`trimtab scrape` shows what a target serves; if the policy works without it, name it by a "
                   "param listed in its `optional`)",
                   policy, m.what, kWarnMissingAfterTicks);
    }
  }
}

bool Controller::record(const JournalRecord& rec) {
  bool written = true;
  if (journal_.isOpen()) {
    Status appended = journal_.append(rec);
    written = appended.ok();
    if (!written && !journalFailing_) {
      spdlog::error("journal: {}; policy changes are held until it can be written (the knobs keep their values)",
                    appended.error().message);
    } else if (written && journalFailing_) {
      spdlog::info("journal: written again; policy changes resume");
    }
    journalFailing_ = !written;
  }
  if (listener_) listener_(rec);
  return written;
}

void Controller::journalEvent(const std::string& event, const std::string& message) {
  JournalRecord rec;
  rec.kind = "event";
  rec.eventTime = clock_.now();
  rec.event = event;
  rec.message = message;
  record(rec);
}

void Controller::reloadPolicies(bool all) {
  std::vector<std::string> names = all ? engine_->names() : engine_->changedPolicies();
  const Seconds now = clock_.now();
  for (const auto& name : names) {
    std::string renamed;
    Status reloaded = engine_->reload(name, &renamed);
    if (reloaded.ok()) {
      // A reload may rename the policy (its state then starts afresh) and
      // change its interval: a shorter one counts from now, not after the old
      // one ran out; the schedule follows the new name.
      Seconds due = now + engine_->interval(renamed);
      if (auto old = policyDue_.find(name); old != policyDue_.end()) {
        due = std::min(due, old->second);
        policyDue_.erase(old);
      }
      policyDue_[renamed] = due;
      const std::string what = renamed == name ? name : name + " -> " + renamed + " (renamed: its state starts afresh)";
      spdlog::info("policy {} reloaded", what);
      journalEvent("reload", what);
    } else {
      spdlog::error("policy {} reload failed, the old version keeps running: {}", name,
                    reloaded.error().message);
      journalEvent("reload_failed", name + ": " + reloaded.error().message);
      if (metrics_) metrics_->countPolicyReloadFailure();
    }
  }
}

void Controller::shutdown() {
  stopping_ = true;
  // With a runner that completes at once (the simulator's), a restore's end
  // would otherwise journal "stop" before the next knob's restore.
  dispatchingRestores_ = true;
  for (const auto& [name, slot] : knobs_) {
    const KnobState* state = governor_.knob(name);
    if (!state || !slot->spec.restoreOnExit || !slot->actuator) continue;
    if (state->pending) {
      slot->restoreAfterInFlight = true;  // dispatched when the apply ends
      continue;
    }
    dispatchRestore(name);
  }
  dispatchingRestores_ = false;
  stopWhenSettled();
}

void Controller::dispatchRestore(const std::string& knob) {
  const KnobSlot& slot = *knobs_.at(knob);
  const KnobState* state = governor_.knob(knob);
  if (!state || state->current == slot.spec.baseline || config_.dryRun || slot.spec.dryRun) return;
  Decision d;
  d.time = clock_.now();
  d.policy = "shutdown";
  d.knob = knob;
  d.proposed = d.decided = slot.spec.baseline;
  d.previous = state->current;
  d.reason = "restore baseline on exit";
  d.verdict = Verdict::Apply;
  ++stats_.restoresDispatched;
  knobs_.at(knob)->restoreInFlight = true;
  journalAndDispatch(d);
}

void Controller::stopWhenSettled() {
  if (!stopping_ || dispatchingRestores_ || stopJournalled_ || inFlight_ > 0) return;
  stopJournalled_ = true;
  journalEvent("stop", "service " + config_.service);
  if (journal_.isOpen()) (void)journal_.flush();
}

std::vector<std::string> Controller::abandonInFlight() {
  // Knobs with restore_on_exit whose restore waits behind an apply, or is
  // itself in flight: not restored, as far as trimtab can tell.
  std::vector<std::string> unrestored;
  for (const auto& [name, slot] : knobs_)
    if (slot->restoreAfterInFlight || slot->restoreInFlight) unrestored.push_back(name);
  if (stopJournalled_) return unrestored;
  stopJournalled_ = true;
  std::string detail = "service " + config_.service + "; " + std::to_string(inFlight_) +
                       " scrapes/actuations still in flight were abandoned (their outcomes are unknown)";
  if (!unrestored.empty()) {
    detail += "; not restored to their baseline:";
    for (const auto& name : unrestored) detail += " " + name;
  }
  journalEvent("stop", detail);
  if (journal_.isOpen()) (void)journal_.flush();
  return unrestored;
}

}  // namespace trimtab
