// SPDX-License-Identifier: Apache-2.0
#include "sim_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <set>

#include "actuators/self_actuator.h"
#include "common/config_node.h"
#include "controller/source_intervals.h"
#include "controller/task_runner.h"
#include "number_format.h"
#include "sim/models/monitoring_model.h"
#include "sim_actuator.h"

namespace trimtab::sim {

namespace {

constexpr const char* kIntervalKnob = "scrape_interval_seconds";
constexpr std::size_t kProgressSteps = 8192;  // steps between progress updates
constexpr Seconds kPredictWindow = 3600;      // history the report's OOM prediction uses
constexpr Seconds kPredictHorizon = 4 * 3600; // and how far ahead it looks
constexpr double kMaxPredictions = 300;       // per run: each costs a refit (~0.3 ms)

double sumOf(const SampleBatch& batch, std::string_view name) {
  double sum = 0;
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch.name(i) == name) sum += batch.entry(i).value;
  return sum;
}

// One run: owns the models, the clock and the controller (declared in that
// order so the controller, which points at the models, goes first).
class SimRun {
 public:
  SimRun(const Scenario& scenario, const ScenarioConfig& config, std::uint64_t seed, const RunOptions& options)
      : scenario_(scenario),
        config_(config),
        options_(options),
        stack_(seed),
        scores_(scenario.sloLatencyP95, scenario.flapWindow),
        timeline_(scenario.sampleInterval(), knobNames(scenario)) {
    result_.config = config.name;
    result_.seed = seed;
  }

  Status build();
  Status run();
  RunResult take() {
    timeline_.setOomKills(oomKills_);
    result_.scores = scores_.finish();
    result_.timeline = timeline_.take();
    return std::move(result_);
  }

 private:
  static std::vector<std::string> knobNames(const Scenario& s) {
    std::vector<std::string> names;
    for (const auto& k : s.knobs) names.push_back(k.spec.name);
    return names;
  }
  Status applyStaticValues();
  CompiledConfig compile();
  void onRecord(const JournalRecord& record);
  void observeStep(Seconds end);
  void drainEvents();
  void closeBucket(Seconds end);
  void syncIntervals();
  void addEvent(RunEvent e);
  void rememberScrape(Seconds end);
  void findUnknownReads();
  double predictOomEta();

  const Scenario& scenario_;
  const ScenarioConfig& config_;
  const RunOptions& options_;
  ModelStack stack_;
  ManualClock clock_{0};
  InlineTaskRunner runner_;
  std::shared_ptr<SourceIntervals> intervals_ = std::make_shared<SourceIntervals>();
  std::unique_ptr<Controller> controller_;
  ScoreAccumulator scores_;
  TimelineRecorder timeline_;
  RunResult result_;
  const SimModel* monitoring_ = nullptr;
  bool monitorsMemory_ = false;
  Seconds lastCtrlInterval_ = 0, lastModelInterval_ = 0;
  double lastStaleCounter_ = 0;
  SampleBatch counters_;
  std::size_t vetoesKept_ = 0;
  // What the predictor would say about memory, from what the controller
  // scraped: resident memory at each successful collection, last hour.
  PredictService predict_;
  std::deque<Point> rssScraped_;
  std::uint64_t scrapesSeen_ = 0;
  std::vector<Seconds> oomKills_;
  Seconds nextPrediction_ = 0;
  double lastPrediction_ = NAN;
};

Status SimRun::build() {
  std::optional<std::uint64_t> perturbSeed;
  if (options_.perturb) perturbSeed = result_.seed;
  if (Status s = addScenarioModels(scenario_, perturbSeed, stack_, &result_.perturbations); !s) return s;
  if (Status s = stack_.attach(); !s) return s;
  monitoring_ = stack_.find("monitoring");
  monitorsMemory_ = stack_.find("memory") != nullptr;
  if (Status s = applyStaticValues(); !s) return s;
  // The source's interval follows the monitoring model (after static values).
  Seconds interval = scenario_.sourceInterval;
  if (monitoring_) interval = monitoring_->knobValue(kIntervalKnob).value_or(interval);
  for (const auto& k : scenario_.knobs) {
    if (k.actuator != "self") continue;
    auto it = config_.knobValues.find(k.spec.name);
    interval = it != config_.knobValues.end() ? it->second : (k.baselineGiven ? k.spec.baseline : interval);
  }
  interval = std::clamp(interval, SourceIntervals::kMinInterval, SourceIntervals::kMaxInterval);
  intervals_->add(scenario_.sourceName, interval);
  if (monitoring_) {
    (void)stack_.setKnob(kIntervalKnob, interval);
    lastModelInterval_ = monitoring_->knobValue(kIntervalKnob).value_or(interval);
  }
  lastCtrlInterval_ = interval;
  controller_ = std::make_unique<Controller>(compile(), intervals_, clock_, runner_);
  controller_->setListener([this](const JournalRecord& r) { onRecord(r); });
  for (const auto& k : scenario_.knobs) scores_.declareKnob(k.spec.name);
  return controller_->start();
}

Status SimRun::applyStaticValues() {
  for (const auto& k : scenario_.knobs) {
    if (k.actuator != "sim" || k.trigger || !k.baselineGiven || config_.knobValues.count(k.spec.name)) continue;
    if (Status s = stack_.setKnob(k.spec.name, k.spec.baseline); !s) return s;
  }
  for (const auto& [knob, value] : config_.knobValues) {
    const ScenarioKnob* governed = scenario_.knob(knob);
    if (governed && governed->actuator == "self") continue;  // the source interval, set in build()
    if (Status s = stack_.setKnob(knob, value); !s) return makeError("config '" + config_.name + "': " + s.error().message);
  }
  return Status::success();
}

CompiledConfig SimRun::compile() {
  CompiledConfig c;
  Config& cfg = c.config;
  cfg.file = scenario_.file;
  cfg.service = scenario_.name;
  cfg.tick = scenario_.step;
  cfg.dryRun = config_.dryRun;
  cfg.watchPolicies = false;
  cfg.store = scenario_.store;
  cfg.policyLimits = scenario_.policyLimits;
  cfg.policies = config_.policies;
  cfg.journal.path = options_.journalPath;
  cfg.journal.exclusive = false;  // one file per run, written by this process only
  cfg.server.enabled = false;
  const Seconds interval = *intervals_->sourceInterval(scenario_.sourceName);
  SourceSpec source{scenario_.sourceName, "sim", interval, interval / 2};
  c.sources.push_back(CompiledSource{source, std::make_unique<SimSource>(stack_, clock_, options_.recorder)});
  for (const auto& k : scenario_.knobs) {
    KnobSpec spec = k.spec;
    if (k.actuator == "self") {
      spec.baseline = interval;
      c.knobs.push_back(
          CompiledKnob{spec, "self", std::make_unique<SelfActuator>(scenario_.sourceName, intervals_.get())});
      continue;
    }
    if (!k.trigger) spec.baseline = stack_.knobValue(spec.name).value_or(spec.baseline);
    c.knobs.push_back(CompiledKnob{spec, "sim", std::make_unique<SimActuator>(stack_)});
  }
  return c;
}

void SimRun::addEvent(RunEvent e) {
  if (result_.events.size() >= kMaxKeptEvents) {
    ++result_.eventsDropped;
    return;
  }
  result_.events.push_back(std::move(e));
}

void SimRun::onRecord(const JournalRecord& r) {
  if (r.kind == "event") {
    if (r.event != "start" && r.event != "stop") addEvent(RunEvent{r.eventTime, "controller", r.event, 0, r.message});
    return;
  }
  const Decision& d = r.decision;
  if (r.kind == "outcome") {
    if (!r.ok.value_or(false)) addEvent(RunEvent{d.time, d.policy, "actuation_failed", d.decided, r.detail});
    return;
  }
  const bool change = d.verdict == Verdict::Apply || d.verdict == Verdict::DryRun;
  if (d.verdict == Verdict::Apply) {
    const ScenarioKnob* k = scenario_.knob(d.knob);
    scores_.knobChanged(d.time, d.knob, d.previous, d.decided, k && k->trigger);
  }
  if (change) {
    addEvent(RunEvent{d.time, d.policy, d.knob, d.decided,
                      formatNumber(d.previous) + " -> " + formatNumber(d.decided) + ": " + d.reason});
  }
  const bool keep = change || (d.verdict == Verdict::Vetoed && vetoesKept_ < kMaxKeptVetoes);
  if (!keep) return;
  if (result_.decisions.size() >= kMaxKeptDecisions) {
    ++result_.decisionsDropped;
    return;
  }
  if (d.verdict == Verdict::Vetoed) ++vetoesKept_;
  result_.decisions.push_back(r);
}

void SimRun::observeStep(Seconds end) {
  const SimWorld& w = stack_.world();
  StepObservation o;
  o.time = end;
  o.dt = scenario_.step;
  o.requests = w.app.requests;
  o.errors = w.app.errors;
  o.latencyP95 = w.app.latencyP95;
  o.up = w.process.up;
  o.rssBytes = w.process.rssBytes;
  o.connectionsOpen = w.db.present ? w.db.open : 0;
  o.cachePresent = w.cache.present;
  o.hitRatio = w.cache.hitRatio;
  o.monitoringCpuFraction = w.monitoring.cpuFraction;
  scores_.observe(o);
  timeline_.observe(o);
}

void SimRun::drainEvents() {
  auto& events = stack_.world().events;
  for (const auto& e : events) {
    if (e.what == "oom_kill") {
      scores_.countOomKill();
      oomKills_.push_back(e.time);
    }
    addEvent(RunEvent{e.time, e.model, e.what, e.value, {}});
  }
  events.clear();
}

void SimRun::closeBucket(Seconds end) {
  // Stale reads come from the cache's own counter (it knows lookups per
  // request and the stale fraction); a drop is a reset, as in PromQL.
  counters_.clear();
  stack_.publish(counters_);
  const double stale = sumOf(counters_, "cache_stale_reads_total");
  const double increase = stale >= lastStaleCounter_ ? stale - lastStaleCounter_ : stale;
  lastStaleCounter_ = stale;
  result_.memoryLimitBytes = sumOf(counters_, "process_memory_limit_bytes");
  scores_.addStaleReads(increase);
  std::vector<double> knobs;
  knobs.reserve(scenario_.knobs.size());
  const Seconds interval = *intervals_->sourceInterval(scenario_.sourceName);
  for (const auto& k : scenario_.knobs) {
    const KnobState* state = controller_->governor().knob(k.spec.name);
    double v = state ? state->current : NAN;
    if (k.actuator == "self") {
      v = interval;
    } else if (!k.trigger) {
      v = stack_.knobValue(k.spec.name).value_or(v);
    }
    knobs.push_back(v);
  }
  timeline_.close(end, increase, interval, predictOomEta(), std::move(knobs));
}

void SimRun::rememberScrape(Seconds end) {
  const std::uint64_t ok = controller_->stats().scrapesOk;
  if (ok == scrapesSeen_) return;
  scrapesSeen_ = ok;
  rssScraped_.push_back(Point{end, stack_.world().process.rssBytes});
  while (!rssScraped_.empty() && rssScraped_.front().t < end - kPredictWindow) rssScraped_.pop_front();
}

double SimRun::predictOomEta() {
  if (result_.memoryLimitBytes <= 0 || rssScraped_.empty()) return NAN;
  // The report's prediction is sampled, not every bucket: bounded cost.
  const Seconds now = rssScraped_.back().t;
  if (now < nextPrediction_) return lastPrediction_;
  nextPrediction_ = now + std::max(scenario_.sampleInterval(), scenario_.duration / kMaxPredictions);
  std::vector<Point> points(rssScraped_.begin(), rssScraped_.end());
  PredictOptions options;
  options.window = kPredictWindow;
  options.horizon = kPredictHorizon;
  auto answer = predict_.eta("process_resident_memory_bytes", points, result_.memoryLimitBytes, options);
  lastPrediction_ = NAN;
  if (answer.ok() && answer->status == EtaStatus::Already) lastPrediction_ = 0;
  if (answer.ok() && answer->status == EtaStatus::Crossing) lastPrediction_ = answer->seconds;
  return lastPrediction_;
}

void SimRun::syncIntervals() {
  if (!monitoring_) return;
  const Seconds ctrl = *intervals_->sourceInterval(scenario_.sourceName);
  const Seconds model = monitoring_->knobValue(kIntervalKnob).value_or(ctrl);
  if (ctrl != lastCtrlInterval_) {
    (void)stack_.setKnob(kIntervalKnob,
                         std::clamp(ctrl, MonitoringModel::kMinInterval, MonitoringModel::kMaxInterval));
    lastModelInterval_ = monitoring_->knobValue(kIntervalKnob).value_or(ctrl);
    lastCtrlInterval_ = ctrl;
  } else if (model != lastModelInterval_) {
    (void)intervals_->setSourceInterval(
        scenario_.sourceName, std::clamp(model, SourceIntervals::kMinInterval, SourceIntervals::kMaxInterval));
    lastModelInterval_ = model;
    lastCtrlInterval_ = *intervals_->sourceInterval(scenario_.sourceName);
  }
}

Status SimRun::run() {
  const Seconds step = scenario_.step;
  const auto steps = static_cast<std::uint64_t>(std::llround(scenario_.duration / step));
  const auto bucketSteps =
      static_cast<std::uint64_t>(std::max(1.0, std::round(scenario_.sampleInterval() / step)));
  Seconds nextTick = controller_->nextDue();
  for (std::uint64_t k = 0; k < steps; ++k) {
    const Seconds now = static_cast<double>(k) * step;
    const Seconds end = static_cast<double>(k + 1) * step;
    stack_.step(now, step);
    observeStep(end);
    if (!stack_.world().events.empty()) drainEvents();
    // Only steps where a source or a policy is due tick the controller: a
    // month at 1 s is 2.6 million model steps but about 500,000 ticks.
    if (options_.tickEveryStep || end + Controller::kDueSlack >= nextTick) {
      clock_.set(end);
      controller_->tick();
      syncIntervals();
      if (monitorsMemory_) rememberScrape(end);
      nextTick = controller_->nextDue();
    }
    if ((k + 1) % bucketSteps == 0 || k + 1 == steps) closeBucket(end);
    if ((k + 1) % kProgressSteps == 0) {
      if (options_.progress) options_.progress->fetch_add(step * kProgressSteps, std::memory_order_relaxed);
      if (options_.cancel && options_.cancel->load(std::memory_order_relaxed)) return makeError("cancelled");
    }
  }
  if (options_.progress)
    options_.progress->fetch_add(step * static_cast<double>(steps % kProgressSteps), std::memory_order_relaxed);
  controller_->shutdown();
  result_.stats = controller_->stats();
  findUnknownReads();
  return Status::success();
}

void SimRun::findUnknownReads() {
  if (!result_.stats.missingReads.empty()) {
    SampleBatch batch;
    stack_.publish(batch);  // the models publish the same families at every scrape
    std::set<std::string> published;
    for (std::size_t i = 0; i < batch.size(); ++i) published.emplace(batch.name(i));
    const std::vector<std::string> names(published.begin(), published.end());
    for (const auto& [metric, ticks] : result_.stats.missingReads) {
      if (published.count(metric)) continue;
      result_.unpublishedMetrics.push_back(UnknownRead{metric, ticks, closestMatch(metric, names)});
    }
  }
  std::vector<std::string> knobs;
  for (const auto& k : scenario_.knobs) knobs.push_back(k.spec.name);
  for (const auto& [knob, ticks] : result_.stats.unknownKnobs)
    result_.ungovernedKnobs.push_back(UnknownRead{knob, ticks, closestMatch(knob, knobs)});
}

}  // namespace

Result<RunResult> runSimulation(const Scenario& scenario, const ScenarioConfig& config, std::uint64_t seed,
                                const RunOptions& options) {
  auto run = std::make_unique<SimRun>(scenario, config, seed, options);
  const std::string where = scenario.name + " / " + config.name + " / seed " + std::to_string(seed) + ": ";
  if (Status s = run->build(); !s) return makeError(where + s.error().message);
  if (Status s = run->run(); !s) return makeError(where + s.error().message);
  return run->take();
}

}  // namespace trimtab::sim
