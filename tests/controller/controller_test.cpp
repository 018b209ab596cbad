// SPDX-License-Identifier: Apache-2.0
// The controller's tick end to end on a fake clock: fake source in,
// real store, policy engine, governor and journal, recording actuator out.
#include <doctest/doctest.h>

#include <sys/resource.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "controller/compile.h"
#include "controller/config.h"
#include "controller/controller.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

// A source whose next answer the test sets.
class FakeSource final : public MetricSource {
 public:
  struct Script {
    bool up = true;
    double waiting = 0;
    std::vector<std::string> warnings;  // rejected lines of a scrape
    bool repeatWaiting = false;         // clients_waiting twice in one scrape (2nd: 999)
  };
  explicit FakeSource(std::shared_ptr<Script> script) : script_(std::move(script)) {}
  CollectResult collect(const FamilyFilter& filter) override {
    CollectResult r;
    ++collects;
    if (!script_->up) {
      r.status = makeError("connection refused");
      return r;
    }
    if (filter.wants("clients_waiting")) r.batch.add("clients_waiting", MetricType::Gauge, script_->waiting);
    if (script_->repeatWaiting && filter.wants("clients_waiting"))
      r.batch.add("clients_waiting", MetricType::Gauge, 999);
    r.warnings = script_->warnings;
    if (filter.wants("unread_metric")) r.batch.add("unread_metric", MetricType::Gauge, 1);
    return r;
  }
  int collects = 0;

 private:
  std::shared_ptr<Script> script_;
};

// Records what it was asked to apply.
class RecordingActuator final : public Actuator {
 public:
  explicit RecordingActuator(std::shared_ptr<std::vector<double>> applied, bool losesSetting = false)
      : applied_(std::move(applied)), losesSetting_(losesSetting) {}
  ActuationOutcome apply(const ActuationRequest& request) override {
    applied_->push_back(request.value);
    return ActuationOutcome{true, true, "recorded", 1, 0};
  }
  bool losesSettingOnRestart() const override { return losesSetting_; }

 private:
  std::shared_ptr<std::vector<double>> applied_;
  bool losesSetting_;
};

// Holds submitted work until the test runs it: scrapes and actuations in flight.
class DeferredTaskRunner final : public TaskRunner {
 public:
  void submit(std::function<void()> work, std::function<void()> done) override {
    tasks_.emplace_back(std::move(work), std::move(done));
  }
  void runAll() {
    auto tasks = std::move(tasks_);
    tasks_.clear();
    for (auto& [work, done] : tasks) {
      work();
      done();
    }
  }

 private:
  std::vector<std::pair<std::function<void()>, std::function<void()>>> tasks_;
};

// Sends spdlog's default logger into a string while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(
        std::make_shared<spdlog::logger>("capture", std::make_shared<spdlog::sinks::ostream_sink_st>(lines_)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;
  std::string text() const { return lines_.str(); }
  // How many times `needle` was logged.
  int count(const std::string& needle) const {
    const std::string all = text();
    int n = 0;
    for (auto at = all.find(needle); at != std::string::npos; at = all.find(needle, at + 1)) ++n;
    return n;
  }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream lines_;
};

// A config of one knob `pool` (baseline 4) driven by `actuator`, with the
// policy file, the fake source on `script` (every second) and the journal
// that are given; the tests below vary the rest.
struct PoolConfig {
  std::string journal;
  std::string policyFile;
  std::shared_ptr<FakeSource::Script> script;
  double min = 2, max = 20;
  bool restoreOnExit = false;
};

CompiledConfig poolConfig(const PoolConfig& o, std::unique_ptr<Actuator> actuator) {
  CompiledConfig c;
  c.config.service = "test";
  c.config.tick = 1;
  c.config.store.staleAfterScrapes = 2;
  c.config.journal.path = o.journal;
  if (!o.policyFile.empty()) {
    PolicySpec p;
    p.file = o.policyFile;
    c.config.policies.push_back(p);
  }
  if (o.script) {
    SourceSpec s;
    s.name = "app";
    s.kind = "fake";
    s.interval = 1;
    c.sources.push_back(CompiledSource{s, std::make_unique<FakeSource>(o.script)});
  }
  KnobSpec k;
  k.name = "pool";
  k.min = o.min;
  k.max = o.max;
  k.baseline = 4;
  k.restoreOnExit = o.restoreOnExit;
  c.knobs.push_back(CompiledKnob{k, "test", std::move(actuator)});
  return c;
}

// A fresh directory under the system temp dir, removed with what it holds,
// also when a REQUIRE ends the test early.
struct ScratchDir {
  fs::path path;
  explicit ScratchDir(const std::string& name)
      : path(fs::temp_directory_path() / (name + "-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~ScratchDir() { fs::remove_all(path); }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  // Writes `text` to `name` in the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    std::ofstream(path / name) << text;
    return (path / name).string();
  }
};

struct Fixture {
  ScratchDir scratch{"trimtab-controller"};
  const fs::path dir = scratch.path;
  ManualClock clock{1000};
  InlineTaskRunner runner;
  std::shared_ptr<FakeSource::Script> script = std::make_shared<FakeSource::Script>();
  std::shared_ptr<std::vector<double>> applied = std::make_shared<std::vector<double>>();
  std::shared_ptr<SourceIntervals> intervals = std::make_shared<SourceIntervals>();
  std::unique_ptr<Controller> controller;

  static constexpr const char* kGrowPolicy = R"(
return {
  name = "grow",
  interval = 1,
  tick = function(ctx)
    local w = ctx.value("clients_waiting")
    local k = ctx.knob("pool")
    if w and k and w > 0 then ctx.propose("pool", k.value + 4, "waiting " .. w) end
  end,
})";

  explicit Fixture(const char* policySource = kGrowPolicy, bool losesSetting = false,
                   TaskRunner* taskRunner = nullptr) {
    intervals->add("app", 1);
    CompiledConfig c = poolConfig({(dir / "journal.jsonl").string(), scratch.write("grow.lua", policySource), script},
                                  std::make_unique<RecordingActuator>(applied, losesSetting));
    controller = std::make_unique<Controller>(std::move(c), intervals, clock, taskRunner ? *taskRunner : runner);
    REQUIRE(controller->start().ok());
  }

  // Appends `record` to the journal, as an earlier run would have left it.
  void appendToJournal(const JournalRecord& record) {
    JournalOptions opt;
    opt.path = (dir / "journal.jsonl").string();
    Journal j;
    REQUIRE(j.open(opt).ok());
    REQUIRE(j.append(record).ok());
  }

  void run(int seconds) {
    for (int i = 0; i < seconds; ++i) {
      controller->tick();
      clock.advance(1);
    }
  }
};

TEST_CASE("a policy param the policy refuses is located at its value, its message at the policy") {
  const ScratchDir scratch("trimtab-compile-test");
  const fs::path& dir = scratch.path;
  std::ofstream(dir / "p.lua") << "return { name = 'p', params = { target = 1 }, tick = function(ctx) end }\n";
  std::ofstream(dir / "trimtab.yaml") << "service: x\npolicies:\n  - file: p.lua\n    params: {targte: 2}\n";
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  Config config = loadConfig((dir / "trimtab.yaml").string(), diagnostics);
  REQUIRE_MESSAGE(diagnostics->empty(), diagnostics->format());
  compileConfig(std::move(config), nullptr, diagnostics);
  const std::string message = diagnostics->format();
  CHECK_MESSAGE(message.find((dir / "trimtab.yaml").string() + ":4:22: policies[0].params.targte: ") !=
                    std::string::npos,
                message);
  CHECK_MESSAGE(message.find("params.targte: unknown parameter of policy 'p' (did you mean 'target'?)") !=
                    std::string::npos,
                message);
}

TEST_CASE("one file listed twice is refused by check unless an entry names it; the name reaches the engine") {
  const ScratchDir scratch("trimtab-compile-names");
  const fs::path& dir = scratch.path;
  std::ofstream(dir / "p.lua") << "return { name = 'p', params = { target = 1 }, tick = function(ctx) end }\n";
  auto check = [&](const std::string& policies) {
    std::ofstream(dir / "trimtab.yaml") << "service: x\npolicies:\n" << policies;
    auto diagnostics = std::make_shared<ConfigDiagnostics>();
    Config config = loadConfig((dir / "trimtab.yaml").string(), diagnostics);
    CompiledConfig compiled = compileConfig(std::move(config), nullptr, diagnostics);
    return std::make_pair(diagnostics->format(), std::move(compiled));
  };
  auto [twice, unused] = check("  - file: p.lua\n  - file: p.lua\n    params: {target: 2}\n");
  CHECK_MESSAGE(twice.find("trimtab.yaml:4:5: policies[1]: policy name 'p' is already used by " +
                           (dir / "p.lua").string() + " (the entry at line 3)") != std::string::npos,
                twice);
  CHECK_MESSAGE(twice.find("give an entry its own name:") != std::string::npos, twice);

  auto [named, compiled] = check("  - file: p.lua\n  - file: p.lua\n    name: p-replica\n    params: {target: 2}\n");
  CHECK_MESSAGE(named.empty(), named);
  ManualClock clock{0};
  InlineTaskRunner runner;
  Controller controller(std::move(compiled), std::make_shared<SourceIntervals>(), clock, runner);
  CHECK(controller.start().ok());  // the engine refuses two policies of one name
  auto [bad, unused2] = check("  - file: p.lua\n    name: '9 lives'\n");
  CHECK_MESSAGE(bad.find("name '9 lives' (from the config) must be letters") != std::string::npos, bad);
}

TEST_CASE("a policy's proposal is governed, applied and journalled") {
  Fixture f;
  f.script->waiting = 3;
  f.run(4);
  REQUIRE_FALSE(f.applied->empty());
  CHECK(f.applied->front() == 8);
  CHECK(f.controller->governor().knob("pool")->current == f.applied->back());
  CHECK(f.controller->stats().actuationsOk == f.applied->size());
  auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
  REQUIRE(records.ok());
  int decisions = 0, outcomes = 0;
  for (const auto& r : *records) {
    decisions += r.kind == "decision" && r.decision.verdict == Verdict::Apply;
    outcomes += r.kind == "outcome" && r.ok.value_or(false);
  }
  CHECK(decisions == static_cast<int>(f.applied->size()));
  CHECK(outcomes == decisions);
}

TEST_CASE("a failing policy is journalled once per failure streak and per new message") {
  // Fails while clients wait: with 1 or 2 waiting ("a"), then 3 or more ("b").
  Fixture f(R"(
return {
  name = "grow",
  interval = 1,
  tick = function(ctx)
    local w = ctx.value("clients_waiting") or 0
    if w >= 3 then error("b") elseif w > 0 then error("a") end
  end,
})");
  auto events = [&] {
    std::vector<std::string> found;
    auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
    REQUIRE(records.ok());
    for (const auto& r : *records)
      if (r.kind == "event" && r.event == "policy_error") found.push_back(r.message);
    return found;
  };
  f.run(2);  // a good start, the source collected
  f.script->waiting = 1;
  f.run(2);  // two failures in a row (quarantine comes after 3): one event
  REQUIRE(events().size() == 1);
  CHECK(events()[0].find("grow: ") == 0);
  CHECK(events()[0].find("grow.lua:7: a") != std::string::npos);
  f.script->waiting = 0;
  f.run(1);  // a good tick ends the streak
  f.script->waiting = 3;
  f.run(2);  // a new streak, a new message: one more event
  f.script->waiting = 0;
  f.run(1);
  f.script->waiting = 3;
  f.run(1);  // the same message again after a good tick: an event again
  auto all = events();
  REQUIRE(all.size() == 3);
  CHECK(all[1].find("grow.lua:7: b") != std::string::npos);
  CHECK(all[2] == all[1]);
  CHECK(f.controller->stats().policyErrors == 5);
}

TEST_CASE("a runtime setting is applied again when its source comes back from being down") {
  for (bool losesSetting : {true, false}) {
    CAPTURE(losesSetting);
    Fixture f(Fixture::kGrowPolicy, losesSetting);
    f.script->waiting = 3;
    f.run(2);
    f.script->waiting = 0;  // no more proposals: the governor believes in the last value
    f.run(3);
    REQUIRE_FALSE(f.applied->empty());
    const double held = f.controller->governor().knob("pool")->current;
    const std::size_t before = f.applied->size();
    f.script->up = false;  // the server restarts...
    f.run(3);
    f.script->up = true;   // ...and comes back without the setting
    f.run(3);
    if (!losesSetting) {
      CHECK(f.applied->size() == before);  // an action or a persisted setting: not again
      continue;
    }
    REQUIRE(f.applied->size() == before + 1);  // once, not at every tick
    CHECK(f.applied->back() == held);
    auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
    REQUIRE(records.ok());
    const JournalRecord* resync = nullptr;
    for (const auto& r : *records)
      if (r.kind == "decision" && r.decision.policy == "controller") resync = &r;
    REQUIRE(resync);
    CHECK(resync->decision.reason.find("source app is back") == 0);
    CHECK(resync->decision.decided == held);
  }
}

TEST_CASE("the same scrape warnings are logged when they change, not at every scrape") {
  LogCapture log;
  Fixture f;
  f.script->warnings = {"line 3: bad"};
  f.run(20);  // 20 scrapes with the same warning
  f.script->warnings = {"line 4: worse"};
  f.run(2);
  f.script->warnings = {};
  f.run(2);
  f.clock.advance(400);  // past the repeat interval: logged again
  f.script->warnings = {"line 4: worse"};
  f.run(1);
  const std::string text = log.text();
  auto count = [&log](const std::string& needle) { return log.count(needle); };
  CHECK_MESSAGE(count("source app: line 3: bad") == 1, text);
  CHECK_MESSAGE(count("repeated at 19 more scrapes") == 1, text);
  CHECK_MESSAGE(count("source app: line 4: worse") == 2, text);
}

TEST_CASE("a series repeated in one scrape keeps its first sample and is warned about") {
  LogCapture log;
  Fixture f;
  f.script->waiting = 0;
  f.script->repeatWaiting = true;  // a second clients_waiting of 999 would make the policy grow
  f.run(5);
  CHECK(f.applied->empty());
  const std::string text = log.text();
  CHECK_MESSAGE(text.find("source app: 1 sample repeats a series already in this scrape (first: clients_waiting); "
                          "the first sample of each series is kept") != std::string::npos,
                text);
}

TEST_CASE("a misspelt metric or knob is warned about once, after the sources answered; optional ones not") {
  LogCapture log;
  Fixture f(R"(
return {
  name = "typo",
  interval = 1,
  params = { maybe = "maybe_metric" },
  optional = { "maybe" },
  tick = function(ctx)
    ctx.value("clients_waitin")
    ctx.rate("clients_waitin", nil, "1m")  -- a second read of the same name: still one tick
    ctx.knob("poool")
    ctx.value(ctx.params.maybe)
  end,
})");
  f.run(30);
  const std::string text = log.text();
  auto count = [&log](const std::string& needle) { return log.count(needle); };
  CHECK_MESSAGE(count("policy typo: clients_waitin found no data at 10 ticks since every source answered") == 1,
                text);
  CHECK_MESSAGE(count("policy typo: ctx.knob('poool') found no such knob at 10 ticks (governed: pool)") == 1,
                text);
  CHECK_MESSAGE(count("maybe_metric") == 0, text);
  CHECK(f.controller->stats().missingReads.at("clients_waitin") == 30);
  const auto& tallies = f.controller->stats().missingAfterSourcesAnswered;
  CHECK(tallies.at({"typo", "clients_waitin"}).ticks == 30);
  CHECK(tallies.at({"typo", "poool"}).knob);
  CHECK(f.controller->stats().missingReads.count("maybe_metric") == 0);
  // While a source is down, a read that misses says nothing about the name.
  f.script->up = false;
  f.run(10);
  CHECK(tallies.at({"typo", "clients_waitin"}).ticks == 30);
  f.script->up = true;
  f.run(2);
  CHECK(tallies.at({"typo", "clients_waitin"}).ticks == 32);
}

TEST_CASE("a scrape that ends after shutdown journals no source event after stop") {
  DeferredTaskRunner deferred;
  Fixture f(Fixture::kGrowPolicy, false, &deferred);
  f.controller->tick();
  deferred.runAll();  // the first scrape: the source is up
  f.clock.advance(1);
  f.controller->tick();  // a scrape in flight...
  f.script->up = false;  // ...cut short by the stop
  f.controller->shutdown();
  deferred.runAll();
  auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
  REQUIRE(records.ok());
  REQUIRE_FALSE(records->empty());
  CHECK(records->back().event == "stop");
  for (const auto& r : *records) CHECK(r.event != "source_down");
  CHECK(f.controller->stats().scrapesFailed == 0);
}

// The fixture's policy, source and journal, with restore_on_exit on the pool.
CompiledConfig restoringPoolConfig(Fixture& f, std::shared_ptr<std::vector<double>> applied) {
  return poolConfig({(f.dir / "journal.jsonl").string(), (f.dir / "grow.lua").string(), f.script, 2, 20, true},
                    std::make_unique<RecordingActuator>(std::move(applied), false));
}

// Scrapes land until grow proposes 8 and its apply is in flight (held by `deferred`).
void tickUntilApplyInFlight(Controller& ctl, Fixture& f, DeferredTaskRunner& deferred) {
  f.script->waiting = 3;
  for (int i = 0; i < 5 && !ctl.governor().knob("pool")->pending; ++i, f.clock.advance(1)) {
    ctl.tick();
    if (!ctl.governor().knob("pool")->pending) deferred.runAll();
  }
  REQUIRE(ctl.governor().knob("pool")->pending);
}

TEST_CASE("restore_on_exit and an apply in flight at the stop") {
  DeferredTaskRunner deferred;
  Fixture f;
  f.controller.reset();
  auto applied = std::make_shared<std::vector<double>>();
  Controller ctl(restoringPoolConfig(f, applied), f.intervals, f.clock, deferred);
  REQUIRE(ctl.start().ok());
  tickUntilApplyInFlight(ctl, f, deferred);
  SUBCASE("the baseline is sent after the apply; stop is journalled after both") {
    REQUIRE(applied->empty());
    ctl.shutdown();
    // Sent now, the baseline could reach the service before the slower
    // apply of 8, which would then win.
    CHECK(ctl.stats().restoresDispatched == 0);
    deferred.runAll();  // the apply of 8 ends; only then is the baseline sent
    CHECK(ctl.stats().restoresDispatched == 1);
    deferred.runAll();
    REQUIRE(*applied == std::vector<double>{8, 4});
    CHECK(ctl.inFlight() == 0);
    CHECK(ctl.stats().restoresOk == 1);
    auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
    REQUIRE(records.ok());
    REQUIRE_FALSE(records->empty());
    CHECK(records->back().event == "stop");
    CHECK(records->at(records->size() - 2).kind == "outcome");
    CHECK(records->at(records->size() - 2).decision.policy == "shutdown");
  }
  SUBCASE("a stop that cannot wait names the knobs it leaves unrestored") {
    ctl.shutdown();
    CHECK(ctl.abandonInFlight() == std::vector<std::string>{"pool"});
    auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
    REQUIRE(records.ok());
    REQUIRE_FALSE(records->empty());
    CHECK(records->back().event == "stop");
    CHECK_MESSAGE(records->back().message.find("not restored to their baseline: pool") != std::string::npos,
                  records->back().message);
  }
}

TEST_CASE("with a runner that completes at once, stop follows every knob's restore") {
  Fixture f;
  f.controller.reset();
  auto applied = std::make_shared<std::vector<double>>();
  CompiledConfig c = poolConfig({(f.dir / "journal.jsonl").string(), "", nullptr, 2, 20, true},
                                std::make_unique<RecordingActuator>(applied, false));
  KnobSpec second = c.knobs.front().spec;
  second.name = "pool2";
  c.knobs.push_back(CompiledKnob{second, "test", std::make_unique<RecordingActuator>(applied, false)});
  // Both knobs away from their baseline, as a journal recovers them.
  JournalRecord checkpoint;
  checkpoint.kind = "event";
  checkpoint.event = "checkpoint";
  checkpoint.applied = {{"pool", 9}, {"pool2", 7}};
  f.appendToJournal(checkpoint);
  Controller ctl(std::move(c), f.intervals, f.clock, f.runner);
  REQUIRE(ctl.start().ok());
  ctl.shutdown();
  CHECK(*applied == std::vector<double>{4, 4});
  auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
  REQUIRE(records.ok());
  REQUIRE(records->size() >= 5);
  CHECK(records->back().event == "stop");
  int stops = 0;
  for (const auto& r : *records) stops += r.event == "stop";
  CHECK(stops == 1);
}

TEST_CASE("a shorter scrape interval takes effect from the last collection, not after the old one ran out") {
  Fixture f;
  REQUIRE(f.intervals->setSourceInterval("app", 20).ok());
  f.controller->tick();  // t=1000: collects; the next collection is due at 1020
  const std::uint64_t first = f.controller->stats().scrapesOk;
  f.clock.set(1003);
  f.controller->tick();
  CHECK(f.controller->stats().scrapesOk == first);
  REQUIRE(f.intervals->setSourceInterval("app", 2).ok());  // a policy speeds scraping up
  CHECK(f.controller->nextDue() <= 1002);  // 1000 + 2: due already
  f.clock.set(1004);
  f.controller->tick();
  CHECK(f.controller->stats().scrapesOk == first + 1);  // not at 1020
  CHECK(f.controller->nextDue() <= 1006);
  f.clock.set(1006);
  f.controller->tick();
  CHECK(f.controller->stats().scrapesOk == first + 2);
}

TEST_CASE("a reload that shortens or renames a policy's interval schedules it from now") {
  const char* slow = R"(
return { name = "slow", interval = "20s", tick = function(ctx) ctx.state.n = (ctx.state.n or 0) + 1 end })";
  Fixture f(slow);
  f.controller->tick();  // t=1000: runs; next at 1020
  f.clock.set(1002);
  std::ofstream(f.dir / "grow.lua") << R"(
return { name = "fast", interval = "1s", tick = function(ctx) end })";
  f.controller->reloadPolicies(true);
  CHECK(f.controller->nextDue() <= 1003);  // 1002 + 1 s, not 1020
  const std::uint64_t ticks = f.controller->stats().policyTicks;
  f.clock.set(1003);
  f.controller->tick();
  CHECK(f.controller->stats().policyTicks == ticks + 1);
  auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
  REQUIRE(records.ok());
  bool renamed = false;
  for (const auto& r : *records) renamed = renamed || (r.event == "reload" && r.message.find("slow -> fast") == 0);
  CHECK(renamed);
}

TEST_CASE("nextDue follows the fixed cadence and restarts from now after a stall") {
  // The simulator and replay tick only at nextDue(): it must say exactly when
  // the next collection or policy run would happen.
  Fixture f;
  REQUIRE(f.intervals->setSourceInterval("app", 10).ok());
  CHECK(f.controller->nextDue() == 1000);  // everything is due at start
  f.controller->tick();
  CHECK(f.controller->nextDue() == 1001);  // policy every 1 s, source at 1010
  f.clock.set(1001);
  f.controller->tick();
  CHECK(f.controller->nextDue() == 1002);
  const std::uint64_t collects = f.controller->stats().scrapesOk;
  f.clock.set(1035);  // a stall: both restart from now
  f.controller->tick();
  CHECK(f.controller->stats().scrapesOk == collects + 1);
  CHECK(f.controller->nextDue() == 1036);
  f.clock.set(1044.995);  // within kDueSlack of the source's 1045
  f.controller->tick();
  CHECK(f.controller->stats().scrapesOk == collects + 2);
  CHECK(f.controller->nextDue() == doctest::Approx(1045.995));
}

TEST_CASE("the knob never leaves its bounds however long the policy pushes") {
  Fixture f;
  f.script->waiting = 100;
  f.run(30);
  for (double v : *f.applied) CHECK(v <= 20);
  CHECK(f.controller->governor().knob("pool")->current == 20);
}

TEST_CASE("a dead source makes inputs stale and the governor vetoes") {
  Fixture f;
  f.script->waiting = 3;
  f.run(3);
  std::size_t before = f.applied->size();
  f.script->up = false;
  f.run(10);
  // At most the decisions taken before staleness set in (2 failed scrapes).
  CHECK(f.applied->size() <= before + 2);
  CHECK(f.controller->stats().scrapesFailed >= 8);
  CHECK(f.controller->stats().decisionsByVerdict.count("vetoed") == 1);
  f.script->up = true;
  f.run(3);
  CHECK(f.applied->size() > before);  // recovers once the source is back
}

TEST_CASE("only the metrics policies read are collected") {
  Fixture f;
  f.script->waiting = 0;
  f.run(3);
  const SeriesStore& store = f.controller->seriesStore();
  CHECK(store.select("clients_waiting", {}).size() == 1);
  CHECK(store.select("unread_metric", {}).empty());
}

TEST_CASE("knob values are recovered from the journal on restart") {
  double last = 0;
  fs::path dir;
  {
    Fixture f;
    f.script->waiting = 3;
    f.run(3);
    last = f.controller->governor().knob("pool")->current;
    dir = f.dir;
    CHECK(last != 4);
    // Reopen on the same journal before the fixture removes it.
    CompiledConfig c =
        poolConfig({(dir / "journal.jsonl").string(), "", nullptr}, std::make_unique<RecordingActuator>(f.applied));
    ManualClock clock(2000);
    InlineTaskRunner runner;
    Controller again(std::move(c), std::make_shared<SourceIntervals>(), clock, runner);
    f.controller.reset();  // close the first journal
    REQUIRE(again.start().ok());
    CHECK(again.governor().knob("pool")->current == last);
  }
}

TEST_CASE("a journal value outside the bounds configured now is recovered clamped, and resynced so") {
  Fixture f(Fixture::kGrowPolicy, true);
  f.script->waiting = 3;
  f.run(3);
  const double last = f.controller->governor().knob("pool")->current;
  REQUIRE(last > 6);
  auto applied = std::make_shared<std::vector<double>>();
  // max lowered to 6 since the journal was written
  CompiledConfig c = poolConfig({(f.dir / "journal.jsonl").string(), "", f.script, 2, 6},
                                std::make_unique<RecordingActuator>(applied, true));
  f.controller.reset();
  Controller again(std::move(c), f.intervals, f.clock, f.runner);
  REQUIRE(again.start().ok());
  CHECK(again.governor().knob("pool")->current == 6);
  f.script->waiting = 0;
  // The service may still hold the value above the new max: applied at once.
  again.tick();
  REQUIRE(applied->size() == 1);
  CHECK(applied->front() == 6);
  f.clock.advance(1);
  f.script->up = false;  // down, then back: the knob is applied again, within its bounds
  for (int i = 0; i < 3; ++i, f.clock.advance(1)) again.tick();
  f.script->up = true;
  for (int i = 0; i < 3; ++i, f.clock.advance(1)) again.tick();
  REQUIRE(applied->size() == 2);
  CHECK(applied->back() == 6);
}

TEST_CASE("while the journal cannot be written, policy changes are held and the knob keeps its value") {
  LogCapture logs;
  Fixture f;
  f.script->waiting = 3;
  f.run(3);
  REQUIRE_FALSE(f.applied->empty());
  const std::size_t appliedBefore = f.applied->size();
  const double before = f.controller->governor().knob("pool")->current;
  // The disk is full: the journal file cannot grow (RLIMIT_FSIZE, EFBIG).
  const std::uintmax_t size = fs::file_size(f.dir / "journal.jsonl");
  struct rlimit saved {};
  REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
  auto previousHandler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit full = saved;
  full.rlim_cur = static_cast<rlim_t>(size);
  REQUIRE(::setrlimit(RLIMIT_FSIZE, &full) == 0);
  f.run(3);
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, previousHandler);
  CHECK(f.applied->size() == appliedBefore);  // nothing reached the actuator
  CHECK(f.controller->governor().knob("pool")->current == before);
  CHECK(f.controller->stats().decisionsByVerdict.at("held: journal unwritable") >= 2);
  CHECK(logs.count("policy changes are held until it can be written") == 1);  // once per streak
  f.run(2);  // room again: the policy's changes go on
  CHECK(f.applied->size() > appliedBefore);
  CHECK(logs.count("journal: written again") == 1);
}

TEST_CASE("a journal value that is not a number, or not whole for an integer knob, is not taken as is") {
  // A damaged or hand-edited journal: NaN stuck as the knob's value vetoed
  // every relative proposal and let a fixed one past max_step.
  LogCapture logs;
  Fixture f;
  f.controller.reset();
  auto applied = std::make_shared<std::vector<double>>();
  CompiledConfig c = poolConfig({(f.dir / "journal.jsonl").string(), "", nullptr},
                                std::make_unique<RecordingActuator>(applied, false));
  KnobSpec whole = c.knobs.front().spec;
  whole.name = "whole";
  whole.integer = true;
  c.knobs.push_back(CompiledKnob{whole, "test", std::make_unique<RecordingActuator>(applied, false)});
  JournalRecord checkpoint;
  checkpoint.kind = "event";
  checkpoint.event = "checkpoint";
  checkpoint.applied = {{"pool", std::nan("")}, {"whole", 7.6}};
  f.appendToJournal(checkpoint);
  Controller ctl(std::move(c), f.intervals, f.clock, f.runner);
  REQUIRE(ctl.start().ok());
  CHECK(ctl.governor().knob("pool")->current == 4);  // the baseline
  CHECK(ctl.governor().knob("whole")->current == 8);
  CHECK(logs.count("the journal's last applied value is nan; the knob starts at its baseline 4") == 1);
  CHECK(logs.count("or not a whole number; taken as 8") == 1);
  ctl.tick();  // both applied again: the service may hold anything
  std::vector<double> sorted = *applied;
  std::sort(sorted.begin(), sorted.end());
  CHECK(sorted == std::vector<double>{4, 8});
}

TEST_CASE("an apply the journal has no outcome for is applied again at start, with a warning") {
  LogCapture logs;
  Fixture f(Fixture::kGrowPolicy, true);
  f.script->waiting = 3;
  f.run(3);
  const double last = f.controller->governor().knob("pool")->current;
  REQUIRE(last > 2);
  f.controller.reset();
  // trimtab was killed while applying last + 1: its decision, no outcome.
  JournalRecord rec;
  rec.kind = "decision";
  rec.decision.time = f.clock.now();
  rec.decision.policy = "grow";
  rec.decision.knob = "pool";
  rec.decision.previous = last;
  rec.decision.proposed = rec.decision.decided = last + 1;
  rec.decision.verdict = Verdict::Apply;
  f.appendToJournal(rec);
  f.script->waiting = 0;
  auto applied = std::make_shared<std::vector<double>>();
  CompiledConfig c = poolConfig({(f.dir / "journal.jsonl").string(), "", f.script},
                                std::make_unique<RecordingActuator>(applied, false));
  Controller again(std::move(c), f.intervals, f.clock, f.runner);
  REQUIRE(again.start().ok());
  CHECK(again.governor().knob("pool")->current == last);
  CHECK(logs.count("has no outcome for the apply of " + fmt::format("{}", last + 1)) == 1);
  again.tick();
  REQUIRE(applied->size() == 1);
  CHECK(applied->front() == last);
  auto records = Journal::readAll((f.dir / "journal.jsonl").string(), nullptr);
  REQUIRE(records.ok());
  bool journalled = false;
  for (const auto& r : *records)
    journalled = journalled || (r.kind == "decision" && r.decision.policy == "controller" &&
                                r.decision.reason.find("has no outcome") != std::string::npos);
  CHECK(journalled);
}

}  // namespace
}  // namespace trimtab

namespace trimtab {
namespace {

// Accepts every change but reports it effective only on the third call.
class SlowEffectActuator final : public Actuator {
 public:
  explicit SlowEffectActuator(int* calls) : calls_(calls) {}
  ActuationOutcome apply(const ActuationRequest&) override {
    ++*calls_;
    bool done = *calls_ >= 3;
    return ActuationOutcome{true, done, done ? "effective" : "applied, not yet effective", 1, 0};
  }

 private:
  int* calls_;
};

TEST_CASE("a change that has not taken effect is applied again until it has") {
  const ScratchDir scratch("trimtab-reapply");
  const std::string policy = scratch.write("once.lua", R"(
return { name = "once", interval = 1, tick = function(ctx)
  local k = ctx.knob("pool")
  if k.value == 4 then ctx.propose("pool", 8, "grow once") end
end })");
  int calls = 0;
  CompiledConfig c = poolConfig({"", policy, nullptr, 1, 20},
                                std::make_unique<SlowEffectActuator>(&calls));
  ManualClock clock(100);
  InlineTaskRunner runner;
  Controller controller(std::move(c), std::make_shared<SourceIntervals>(), clock, runner);
  REQUIRE(controller.start().ok());
  for (int i = 0; i < 20; ++i) {
    controller.tick();
    clock.advance(1);
  }
  CHECK(calls == 3);  // applied, re-applied, effective: then it stops
  CHECK(controller.governor().knob("pool")->current == 8);
}

// Fails while `down` is set.
class FlakyActuator final : public Actuator {
 public:
  explicit FlakyActuator(const bool* down) : down_(down) {}
  ActuationOutcome apply(const ActuationRequest&) override {
    if (*down_) return ActuationOutcome{false, false, "connection refused", 1, 0};
    return ActuationOutcome{true, true, "ok", 1, 0};
  }

 private:
  const bool* down_;
};

TEST_CASE("a dead actuator is logged once per streak of failures, and its recovery once") {
  const ScratchDir scratch("trimtab-flaky");
  const std::string policy = scratch.write("up.lua", R"(
return { name = "up", interval = 1, tick = function(ctx)
  local k = ctx.knob("pool")
  ctx.propose("pool", k.value + 1, "always more")
end })");
  bool down = true;
  CompiledConfig c = poolConfig({"", policy, nullptr, 1, 100},
                                std::make_unique<FlakyActuator>(&down));
  ManualClock clock(100);
  InlineTaskRunner runner;
  LogCapture logs;
  Controller controller(std::move(c), std::make_shared<SourceIntervals>(), clock, runner);
  REQUIRE(controller.start().ok());
  for (int i = 0; i < 10; ++i, clock.advance(1)) controller.tick();
  CHECK(controller.stats().actuationsFailed == 10);
  CHECK_MESSAGE(logs.count("knob pool: applying") == 1, logs.text());
  down = false;
  for (int i = 0; i < 3; ++i, clock.advance(1)) controller.tick();
  CHECK_MESSAGE(logs.count("knob pool: applying works again after 10 failed applies") == 1, logs.text());
  down = true;  // a new streak is logged again
  for (int i = 0; i < 3; ++i, clock.advance(1)) controller.tick();
  CHECK_MESSAGE(logs.count("failed: connection refused") == 2, logs.text());
}

}  // namespace
}  // namespace trimtab
