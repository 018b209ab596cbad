// SPDX-License-Identifier: Apache-2.0
#include "controller/controller.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "controller/own_metrics.h"

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
  // A source came back after being down: its server may have restarted and
  // lost this knob's runtime setting, which the governor still believes in
  // (a proposal of the same value is "unchanged"). Applied again once.
  std::string resyncAfter;  // the source that came back; "" = nothing to do
};

namespace {

constexpr Seconds kDueSlack = Controller::kDueSlack;

// How often, and how many times, an accepted but not yet effective change is
// applied again before trimtab gives up and says so in the journal.
constexpr Seconds kReapplyInterval = 2;
constexpr int kMaxReapplies = 30;

// How often a source's unchanged scrape warnings are logged again.
constexpr Seconds kRepeatedWarningInterval = 300;

// Next due time on a fixed cadence; after a stall, restart from now instead
// of running a burst of catch-up work.
Seconds advanceDue(Seconds due, Seconds now, Seconds interval) {
  Seconds next = due + interval;
  return next + kDueSlack < now ? now + interval : next;
}

Seconds steadySeconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

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
}

Controller::~Controller() = default;

Status Controller::start() {
  if (!config_.journal.path.empty()) {
    auto recovery = journal_.open(config_.journal);
    if (!recovery.ok()) return recovery.error();
    for (const auto& w : recovery->warnings) spdlog::warn("journal: {}", w);
    for (const auto& [knob, value] : recovery->lastApplied) {
      const KnobState* state = governor_.knob(knob);
      if (!state) continue;  // a knob removed from the config since
      // The bounds may have changed since: what trimtab believes, and may
      // apply again, stays within the ones configured now.
      const double within = std::clamp(value, state->spec.min, state->spec.max);
      if (within != value)
        spdlog::warn("knob {}: {} from the journal is outside its bounds [{}, {}]; taken as {}", knob, value,
                     state->spec.min, state->spec.max, within);
      governor_.setCurrent(knob, within);
      spdlog::info("knob {} recovered at {} from the journal", knob, within);
    }
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
  Seconds started = steadySeconds();
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
      record(rec);
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

// A shorter interval set since the last collection (the self actuator, the
// simulator's monitoring knob) counts from that collection: a policy that
// speeds scraping up near a limit must not wait out the old, longer interval.
Seconds Controller::dueWith(const SourceSlot& slot, Seconds interval) {
  return slot.lastStart >= 0 ? std::min(slot.nextDue, slot.lastStart + interval) : slot.nextDue;
}

Seconds Controller::intervalOf(const SourceSlot& slot) const {
  return intervals_->sourceInterval(slot.spec.name).value_or(slot.spec.interval);
}

void Controller::collectDueSources(Seconds now) {
  for (auto& slotPtr : sources_) {
    SourceSlot& slot = *slotPtr;
    const Seconds interval = intervalOf(slot);
    slot.nextDue = dueWith(slot, interval);
    if (slot.inFlight || now + kDueSlack < slot.nextDue) continue;
    slot.lastStart = now;
    slot.nextDue = advanceDue(slot.nextDue, now, interval);
    slot.inFlight = true;
    ++inFlight_;
    // The read filter only changes when a policy reads a new family: rebuilt
    // then, shared (immutable) by every collection meanwhile.
    if (!readFilter_ || readFilterGeneration_ != store_.readFilterGeneration()) {
      readFilter_ = std::make_shared<const FamilyFilter>(store_.readFilter());
      readFilterGeneration_ = store_.readFilterGeneration();
    }
    slot.filter = readFilter_;
    slot.result = std::make_shared<CollectResult>();
    MetricSource* source = slot.source.get();
    auto result = slot.result;
    auto filter = slot.filter;
    SourceSlot* raw = &slot;
    runner_.submit(
        [source, result, filter] {
          Seconds t0 = steadySeconds();
          *result = source->collect(*filter);
          result->duration = steadySeconds() - t0;
        },
        [this, raw, result] {
          --inFlight_;
          raw->inFlight = false;
          onCollected(*raw, *result, clock_.now());
        });
  }
}

void Controller::logScrapeWarnings(SourceSlot& slot, const std::vector<std::string>& warnings, Seconds now) {
  std::string all;
  for (const auto& w : warnings) all += w + "\n";
  if (all == slot.loggedWarnings && now - slot.loggedAt < kRepeatedWarningInterval) {
    slot.repeats += !all.empty();
    return;
  }
  if (slot.repeats > 0)
    spdlog::warn("source {}: the warnings above repeated at {} more scrapes", slot.spec.name, slot.repeats);
  for (const auto& w : warnings) spdlog::warn("source {}: {}", slot.spec.name, w);
  slot.loggedWarnings = std::move(all);
  slot.loggedAt = now;
  slot.repeats = 0;
}

void Controller::onCollected(SourceSlot& slot, CollectResult& result, Seconds now) {
  // A scrape that ends after shutdown() (cut short by the stop itself) says
  // nothing about the source: no up/down event after the journal's "stop".
  if (stopping_) return;
  std::size_t rejected = 0;  // lines or samples of this scrape that were not taken
  if (result.status.ok()) {
    const SeriesStore::IngestProblems problems = store_.ingest(slot.storeId, result.batch, now);
    rejected = result.warnings.size() + problems.duplicates;
    if (problems.duplicates > 0) {
      result.warnings.push_back(std::to_string(problems.duplicates) + " sample" +
                                (problems.duplicates == 1 ? " repeats a series" : "s repeat series") +
                                " already in this scrape (first: " + problems.firstDuplicate +
                                "); the first sample of each series is kept");
    }
    ++stats_.scrapesOk;
    slot.everOk = true;
    if (!slot.up) {
      spdlog::info("source {} is back", slot.spec.name);
      journalEvent("source_up", slot.spec.name);
      markForResync(slot.spec.name);
    }
    slot.up = true;
    logScrapeWarnings(slot, result.warnings, now);
  } else {
    store_.markFailedScrape(slot.storeId, now);
    ++stats_.scrapesFailed;
    if (slot.up) {
      spdlog::warn("source {} is down: {}", slot.spec.name, result.status.error().message);
      journalEvent("source_down", slot.spec.name + ": " + result.status.error().message);
    }
    slot.up = false;
  }
  if (metrics_) {
    metrics_->observeScrape(slot.spec.name, result.duration);
    metrics_->setSourceUp(slot.spec.name, result.status.ok());
    if (result.status.ok()) {
      metrics_->setScrapeSamples(slot.spec.name, static_cast<double>(result.batch.size()));
      metrics_->countScrapeRejectedLines(slot.spec.name, rejected);
    } else {
      metrics_->countScrapeError(slot.spec.name);
    }
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
    if (now + kDueSlack < due->second) continue;
    due->second = advanceDue(due->second, now, engine_->interval(name));
    if (engine_->quarantined(name)) continue;
    PolicyTickResult result = engine_->tick(name, now);
    ++stats_.policyTicks;
    countMissingReads(result.missing);
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

void Controller::countMissingReads(const std::vector<MissingRead>& missing) {
  auto count = [](std::map<std::string, std::uint64_t>& counts, const std::string& name) {
    auto it = counts.find(name);
    if (it != counts.end()) {
      ++it->second;
    } else if (counts.size() < kMaxTrackedMissingMetrics) {
      counts.emplace(name, 1);
    }
  };
  for (const MissingRead& m : missing) {
    if (!m.knob.empty()) count(stats_.unknownKnobs, m.knob);
    if (!m.metric.empty()) count(stats_.missingReads, m.metric);
  }
}

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
    slot->resyncAfter = source;
  }
}

void Controller::resyncSettings(Seconds now) {
  for (auto& [name, slot] : knobs_) {
    if (slot->resyncAfter.empty()) continue;
    const KnobState* state = governor_.knob(name);
    if (!state || state->pending) continue;  // after the apply in flight
    if (!(state->current >= slot->spec.min && state->current <= slot->spec.max)) {  // never out of bounds
      slot->resyncAfter.clear();
      continue;
    }
    Decision again;
    again.time = now;
    again.policy = "controller";
    again.knob = name;
    again.proposed = again.decided = again.previous = state->current;
    again.verdict = Verdict::Apply;
    again.reason = "source " + slot->resyncAfter +
                   " is back: applied again, a restarted server loses runtime settings";
    slot->resyncAfter.clear();
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
          } else {
            spdlog::warn("knob {}: applying {} failed: {}", decision.knob, decision.decided, outcome->detail);
          }
        }
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
      });
}

void Controller::record(const JournalRecord& rec) {
  if (journal_.isOpen()) {
    Status written = journal_.append(rec);
    if (!written.ok()) spdlog::error("journal: {}", written.error().message);
  }
  if (listener_) listener_(rec);
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
  for (const auto& [name, slot] : knobs_) {
    const KnobState* state = governor_.knob(name);
    if (!state || !slot->spec.restoreOnExit || !slot->actuator) continue;
    if (state->current == slot->spec.baseline || config_.dryRun || slot->spec.dryRun) continue;
    Decision d;
    d.time = clock_.now();
    d.policy = "shutdown";
    d.knob = name;
    d.proposed = d.decided = slot->spec.baseline;
    d.previous = state->current;
    d.reason = "restore baseline on exit";
    d.verdict = Verdict::Apply;
    ++stats_.restoresDispatched;
    journalAndDispatch(d);
  }
  journalEvent("stop", "service " + config_.service);
  if (journal_.isOpen()) (void)journal_.flush();
}

}  // namespace trimtab
