// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "controller/compile.h"
#include "controller/governor.h"
#include "controller/journal.h"
#include "controller/series_store.h"
#include "controller/source_intervals.h"
#include "controller/task_runner.h"
#include "policy/policy_engine.h"
#include "predict/predict_service.h"

namespace trimtab {

class OwnMetrics;

// Counters the controller keeps about itself (for the run summary, /readyz
// and tests); the Prometheus view of them is OwnMetrics.
struct ControllerStats {
  std::uint64_t ticks = 0;
  std::uint64_t scrapesOk = 0;
  std::uint64_t scrapesFailed = 0;
  std::uint64_t policyTicks = 0;
  std::uint64_t policyErrors = 0;
  std::uint64_t actuationsOk = 0;
  std::uint64_t actuationsFailed = 0;
  std::uint64_t restoresDispatched = 0;  // restore_on_exit applies at shutdown
  std::uint64_t restoresOk = 0;          // ... that succeeded (the rest failed or are still running)
  // By verdict name; also "held: journal unwritable", policy changes not
  // applied because the journal could not record them.
  std::map<std::string, std::uint64_t> decisionsByVerdict;
  // Per metric family a policy read and found no data for: the ticks that
  // read it so (the simulator names the ones no model publishes). At most
  // kMaxTrackedMissingMetrics families.
  std::map<std::string, std::uint64_t> missingReads;
  // Per knob name a policy asked ctx.knob() for and that is not governed:
  // the ticks that did (bounded as missingReads).
  std::map<std::string, std::uint64_t> unknownKnobs;
  // Per (policy, metric or knob name), the ticks whose reads found nothing
  // once every source had answered: warned about, and listed by the run
  // summary, at kWarnMissingAfterTicks. Bounded as missingReads.
  struct MissingTally {
    std::uint64_t ticks = 0;
    bool knob = false;  // ctx.knob() of a knob nobody governs, else a metric read
    std::string read;   // the first read that found nothing, as the journal writes it
  };
  std::map<std::pair<std::string, std::string>, MissingTally> missingAfterSourcesAnswered;
};

inline constexpr std::size_t kMaxTrackedMissingMetrics = 64;
// A policy's read that finds nothing at this many ticks after every source
// answered once is logged (once): a misspelt name otherwise does nothing.
inline constexpr std::uint64_t kWarnMissingAfterTicks = 10;

// Receives every decision and actuation outcome as it happens (the CLI prints
// them; the simulator records them).
using DecisionListener = std::function<void(const JournalRecord&)>;

// The control loop's core: one tick collects the sources that are due,
// updates the store, runs the policies that are due, passes their proposals
// through the governor, dispatches the decisions to actuators and journals
// everything. It knows no Asio and no wall clock: time comes from `clock`,
// blocking I/O goes through `runner`. Live and simulated runs share it.
//
// Thread safety: all methods on the loop thread.
class Controller final : public PolicyHost {
 public:
  Controller(CompiledConfig compiled, std::shared_ptr<SourceIntervals> intervals, const Clock& clock,
             TaskRunner& runner, OwnMetrics* metrics = nullptr);
  ~Controller() override;

  // Opens the journal (recovering each knob's last applied value), loads the
  // policies. Errors name the file.
  Status start();
  void tick();
  // Recompiles changed policy files (or all, for SIGHUP); failures keep the
  // old version and are logged, journalled and counted.
  void reloadPolicies(bool all);
  // Applies baselines of knobs with restore_on_exit (through the runner; a
  // knob with an apply in flight is restored after it), and journals a stop
  // event, flushing the journal, once nothing is in flight any more.
  void shutdown();
  // For a stop that cannot wait for what is still in flight: journals the
  // stop event now, naming what was abandoned, and flushes the journal.
  // Returns the knobs with restore_on_exit left unrestored.
  std::vector<std::string> abandonInFlight();

  void setListener(DecisionListener listener) { listener_ = std::move(listener); }
  const ControllerStats& stats() const { return stats_; }
  const Governor& governor() const { return governor_; }
  const SeriesStore& seriesStore() const { return store_; }
  PolicyEngine& policies() { return *engine_; }
  // True when every source has had at least one successful collection.
  bool ready() const;
  Seconds lastTick() const { return lastTick_; }
  // The earliest due time of a source (not being collected) or a policy:
  // tick() before it does no source or policy work. A driver on a virtual
  // clock (the simulator, replay) ticks only at these times, within
  // kDueSlack. +inf when nothing is scheduled.
  Seconds nextDue() const;
  // Work due within this of now runs now: tick times and due times come from
  // different clock reads a few microseconds apart.
  static constexpr Seconds kDueSlack = 0.01;
  std::size_t inFlight() const { return inFlight_; }

  // PolicyHost
  Seconds now() const override { return clock_.now(); }
  SeriesStore& store() override { return store_; }
  const KnobState* knob(const std::string& name) const override { return governor_.knob(name); }
  std::vector<std::string> knobNames() const override;
  PredictService* predict() override { return &predict_; }

 private:
  struct SourceSlot;
  struct KnobSlot;
  void collectDueSources(Seconds now);
  void onCollected(SourceSlot& slot, CollectResult& result, Seconds now);
  static Seconds dueWith(const SourceSlot& slot, Seconds interval);
  Seconds intervalOf(const SourceSlot& slot) const;  // the source's interval now (the self actuator may change it)
  std::vector<Proposal> runDuePolicies(Seconds now);
  void dispatch(const Decision& decision);
  void reapplyNotYetEffective(Seconds now);
  // trimtab's own decisions (applied again, resynced, restored on exit):
  // journalled, then sent to the actuator.
  void journalAndDispatch(const Decision& decision);
  void markForResync(const std::string& source);
  void resyncSettings(Seconds now);
  // Journals `record` (and passes it to the listener). False when the
  // journal is open and the record could not be written.
  bool record(const JournalRecord& record);
  void dispatchRestore(const std::string& knob);
  // Takes the knob values the journal recovered, within today's bounds, and
  // marks for applying again those the service may not hold.
  void recoverKnobs(const JournalRecovery& recovery);
  // After shutdown(): the stop event once the last scrape or actuation ended.
  void stopWhenSettled();
  void journalEvent(const std::string& event, const std::string& message);
  void countMissingReads(const std::string& policy, const std::vector<MissingRead>& missing);
  void logScrapeWarnings(SourceSlot& slot, const std::vector<std::string>& warnings, Seconds now);

  Config config_;
  std::shared_ptr<SourceIntervals> intervals_;
  const Clock& clock_;
  TaskRunner& runner_;
  OwnMetrics* metrics_;
  SeriesStore store_;
  Governor governor_;
  Journal journal_;
  PredictService predict_;
  std::unique_ptr<PolicyEngine> engine_;
  std::vector<std::unique_ptr<SourceSlot>> sources_;
  std::shared_ptr<const FamilyFilter> readFilter_;  // what collections parse; see collectDueSources
  std::uint64_t readFilterGeneration_ = 0;
  std::map<std::string, std::unique_ptr<KnobSlot>> knobs_;
  std::map<std::string, Seconds> policyDue_;
  // Per policy, the message of its last failed tick while it keeps failing
  // (absent after a good tick): the journal gets a `policy_error` event for
  // the first failure and for each new message, not for every repeat.
  std::map<std::string, std::string> policyFailing_;
  DecisionListener listener_;
  ControllerStats stats_;
  Seconds lastTick_ = 0;
  bool stopping_ = false;  // shutdown() was called
  bool journalFailing_ = false;  // the last append failed: logged once per streak
  bool stopJournalled_ = false;
  bool dispatchingRestores_ = false;  // inside shutdown()'s loop
  std::size_t inFlight_ = 0;
};

}  // namespace trimtab
