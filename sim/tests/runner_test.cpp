// SPDX-License-Identifier: Apache-2.0
// The driver end to end on small scenarios: the production controller over
// the models, on a virtual clock.
#include <doctest/doctest.h>

#include "driver_test_support.h"
#include "sim/driver/report_csv.h"
#include "sim/driver/report_json.h"
#include "sim/driver/report_text.h"
#include "sim/driver/sim_batch.h"
#include "sim/driver/sim_runner.h"

using namespace trimtab;
using namespace trimtab::sim;
using namespace trimtab::sim::testing;

TEST_CASE("a policy that grows a starved pool cuts timeouts and SLO violations") {
  ScratchDir dir("grow");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  auto fixed = runSimulation(s, *s.config("static"), s.seed);
  auto grown = runSimulation(s, *s.config("grow"), s.seed);
  REQUIRE(fixed.ok());
  REQUIRE(grown.ok());
  CHECK(fixed->scores.knobChanges == 0);
  CHECK(grown->scores.knobChanges > 0);
  CHECK(grown->scores.knobs["db_pool_size"].changes > 0);
  CHECK(fixed->scores.timeouts > 100);
  CHECK(grown->scores.timeouts < fixed->scores.timeouts / 2);
  CHECK(grown->scores.sloViolationSeconds < fixed->scores.sloViolationSeconds);
  CHECK(grown->scores.connectionsPeak > fixed->scores.connectionsPeak);
  // The knob's last value is in the timeline, and the decisions say why.
  REQUIRE_FALSE(grown->timeline.rows.empty());
  CHECK(grown->timeline.rows.back().knobs.at(0) > 3);
  REQUIRE_FALSE(grown->decisions.empty());
  CHECK(grown->decisions.front().decision.reason.find("waiting") != std::string::npos);
  CHECK(grown->stats.actuationsOk == grown->scores.knobChanges);
}

TEST_CASE("the controller ticks only when something is due, on the same schedule") {
  ScratchDir dir("ticks");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  auto grown = runSimulation(s, *s.config("grow"), s.seed);
  REQUIRE(grown.ok());
  // 600 s: the source and the policy every 5 s on a fixed cadence from 0,
  // first run at the end of the first step: 1, 5, 10, ..., 600.
  CHECK(grown->stats.ticks == 121);
  CHECK(grown->stats.scrapesOk + grown->stats.scrapesFailed == 121);
  CHECK(grown->stats.policyTicks == 121);
  // Ticking at every step must give exactly the same run: the mirror of the
  // controller's due times misses nothing (if the controller's scheduling
  // changes, this fails).
  RunOptions every;
  every.tickEveryStep = true;
  auto reference = runSimulation(s, *s.config("grow"), s.seed, every);
  REQUIRE(reference.ok());
  CHECK(reference->stats.ticks == 600);
  CHECK(reference->stats.scrapesOk == grown->stats.scrapesOk);
  CHECK(reference->stats.policyTicks == grown->stats.policyTicks);
  CHECK(reference->scores.timeouts == grown->scores.timeouts);
  CHECK(reference->scores.knobChanges == grown->scores.knobChanges);
  CHECK(reference->decisions.size() == grown->decisions.size());
}

TEST_CASE("same scenario and seed give byte-identical JSON and CSV") {
  ScratchDir dir("determinism");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  BatchOptions options;
  options.seeds = {7, 8};
  auto a = runBatch(s, s.configs, options);
  options.threads = 1;
  auto b = runBatch(s, s.configs, options);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(summaryJson(*a) == summaryJson(*b));
  CHECK(timelineCsv(*a) == timelineCsv(*b));
  CHECK(eventsCsv(*a) == eventsCsv(*b));
  CHECK(decisionsJsonLines(a->runs[1][0]) == decisionsJsonLines(b->runs[1][0]));
  // Another seed is another run.
  CHECK(a->runs[0][0].scores.requests != a->runs[0][1].scores.requests);
}

TEST_CASE("an OOM kill takes the source down and the scores count it") {
  const std::string text = R"(
duration: 2h
step: 1s
models:
  - model: load.constant
    rps: 50
  - model: memory
    limit: 512MiB
    baseline: 64MiB
    live_heap: 64MiB
    alloc_per_request: 0
    leak_per_second: 100KiB
    restart_downtime: 60s
  - model: monitoring
    interval: 10s
  - model: app
)";
  ScratchDir dir("oom");
  Scenario s = loadOrFail(text, dir.write("s.yaml", text));
  auto r = runSimulation(s, s.configs.front(), 1);
  REQUIRE(r.ok());
  // (512 - 64 - 64) MiB at 100 KiB/s: a kill every ~3932 s plus downtime.
  CHECK(r->scores.oomKills == 1);
  CHECK(r->scores.downtimeSeconds == doctest::Approx(60).epsilon(0.05));
  CHECK(r->scores.errors == doctest::Approx(50 * 60).epsilon(0.05));
  CHECK(r->stats.scrapesFailed >= 5);
  bool down = false, oom = false;
  for (const auto& e : r->events) {
    down = down || e.what == "source_down";
    oom = oom || e.what == "oom_kill";
  }
  CHECK(down);
  CHECK(oom);
}

TEST_CASE("a scrape-interval knob keeps the source and the monitoring model in step") {
  const std::string text = R"(
duration: 30m
models:
  - model: load.constant
    rps: 10
  - model: monitoring
    interval: 10s
    scrape_cpu: 10ms
  - model: app
knobs:
  - name: scrape_interval_seconds
    min: 1
    max: 60
configs:
  - name: slow
    knobs: {scrape_interval_seconds: 30}
  - name: faster
    knobs: {scrape_interval_seconds: 30}
    policies:
      - file: fast.lua
)";
  ScratchDir dir("interval");
  dir.write("fast.lua", R"(return { name = "fast", interval = 10, tick = function(ctx)
    ctx.propose("scrape_interval_seconds", 2, "faster") end })");
  Scenario s = loadOrFail(text, dir.write("s.yaml", text));
  auto slow = runSimulation(s, *s.config("slow"), 1);
  auto fast = runSimulation(s, *s.config("faster"), 1);
  REQUIRE(slow.ok());
  REQUIRE(fast.ok());
  CHECK(slow->stats.scrapesOk == doctest::Approx(1800 / 30).epsilon(0.05));
  CHECK(fast->stats.scrapesOk > 1800 / 2 - 20);  // every 2 s once the policy ran
  CHECK(fast->timeline.rows.back().monitoringInterval == 2);
  CHECK(fast->scores.monitoringOverhead > 5 * slow->scores.monitoringOverhead);
}

TEST_CASE("the self actuator changes the source's interval and the monitoring model follows") {
  const std::string text = R"(
duration: 30m
source: {name: svc}
models:
  - model: load.constant
    rps: 10
  - model: monitoring
    interval: 10s
  - model: app
knobs:
  - name: metric_interval
    actuator: self
    min: 1
    max: 60
configs:
  - name: slow
    knobs: {metric_interval: 30}
  - name: faster
    knobs: {metric_interval: 30}
    policies:
      - file: fast.lua
)";
  ScratchDir dir("self");
  dir.write("fast.lua", R"(return { name = "fast", interval = 10, tick = function(ctx)
    ctx.propose("metric_interval", 2, "faster") end })");
  Scenario s = loadOrFail(text, dir.write("s.yaml", text));
  REQUIRE(s.knob("metric_interval") != nullptr);
  CHECK(s.knob("metric_interval")->actuator == "self");
  auto slow = runSimulation(s, *s.config("slow"), 1);
  auto fast = runSimulation(s, *s.config("faster"), 1);
  REQUIRE(slow.ok());
  REQUIRE(fast.ok());
  CHECK(slow->stats.scrapesOk == doctest::Approx(1800 / 30).epsilon(0.05));
  CHECK(fast->stats.scrapesOk > 1800 / 2 - 20);
  CHECK(fast->timeline.rows.back().knobs.at(0) == 2);
  CHECK(fast->timeline.rows.back().monitoringInterval == 2);
  // The model charges the service for the faster scrapes.
  CHECK(fast->scores.monitoringOverhead > 5 * slow->scores.monitoringOverhead);
}

TEST_CASE("a policy that fails to load is an error naming the file, found when the scenario loads") {
  ScratchDir dir("badpolicy");
  dir.write("grow.lua", "return { name = 'grow', tick = function(ctx) end");  // syntax error
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto loaded = loadScenarioString(kOverloadedPool, dir.write("s.yaml", kOverloadedPool), diagnostics);
  REQUIRE_FALSE(loaded.ok());
  const std::string message = diagnostics->format();
  CHECK_MESSAGE(message.find("s.yaml:") != std::string::npos, message);  // at the config's entry
  CHECK_MESSAGE(message.find("configs[1].policies[0]: ") != std::string::npos, message);
  CHECK_MESSAGE(message.find("grow.lua:1: ") != std::string::npos, message);

  // Broken after the scenario loaded: the run fails, naming the file.
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  dir.write("grow.lua", "return { name = 'grow', tick = function(ctx) end");
  auto r = runSimulation(s, *s.config("grow"), 1);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("grow.lua") != std::string::npos);
}

TEST_CASE("a config's bad params and duplicate policy names are found when the scenario loads") {
  ScratchDir dir("badparams");
  dir.write("grow.lua", kGrowPolicy);
  std::string text = kOverloadedPool;
  text += "  - name: twice\n    policies:\n      - file: grow.lua\n      - file: grow.lua\n"
          "  - name: typo\n    policies:\n      - file: grow.lua\n        params: {limit: 2}\n";
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto loaded = loadScenarioString(text, dir.write("s.yaml", text), diagnostics);
  REQUIRE_FALSE(loaded.ok());
  const std::string message = diagnostics->format();
  CHECK_MESSAGE(message.find("configs[2].policies[1]: policy name 'grow' is already used by " +
                             (dir.path / "grow.lua").string() + " (the entry at line") !=
                    std::string::npos,
                message);
  CHECK_MESSAGE(message.find("configs[3].policies[0]: ") != std::string::npos, message);
  CHECK_MESSAGE(message.find("params.limit: unknown parameter of policy 'grow'") != std::string::npos, message);
}

TEST_CASE("failed ticks and reads of unpublished metrics are reported after the table") {
  ScratchDir dir("problems");
  // Reads a misspelt metric every tick; fails once, at t=60.
  dir.write("grow.lua", R"(
return {
  name = "grow",
  interval = "5s",
  tick = function(ctx)
    if ctx.now == 60 then error("boom") end
    if not ctx.knob("db_pool_sise") then ctx.log("no such knob") end
    local w = ctx.value("db_pool_clients_waitin")
    if w then ctx.propose("db_pool_size", 40, "never") end
  end,
}
)");
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  BatchOptions options;
  options.seeds = {1, 2};
  options.threads = 1;
  auto report = runBatch(s, {*s.config("static"), *s.config("grow")}, options);
  REQUIRE(report.ok());
  const RunResult& run = report->runs[1][0];
  REQUIRE(run.unpublishedMetrics.size() == 1);
  CHECK(run.unpublishedMetrics[0].name == "db_pool_clients_waitin");
  CHECK(run.unpublishedMetrics[0].suggestion == "db_pool_clients_waiting");
  CHECK(run.unpublishedMetrics[0].ticks == run.stats.policyTicks - 1);  // all but the failed tick
  REQUIRE(run.ungovernedKnobs.size() == 1);
  CHECK(run.ungovernedKnobs[0].name == "db_pool_sise");
  CHECK(run.ungovernedKnobs[0].suggestion == "db_pool_size");
  bool journalled = false;
  for (const auto& e : run.events) journalled = journalled || (e.what == "policy_error" && e.time == 60);
  CHECK(journalled);

  const std::string text = problemsText(*report);
  INFO(text);
  CHECK(text.find("grow: 2 of ") != std::string::npos);
  CHECK(text.find("policy ticks failed in 2 of 2 runs") != std::string::npos);
  CHECK(text.find("first failure at 00:01:00 (seed 1): grow: ") != std::string::npos);
  CHECK(text.find("grow.lua:6: boom") != std::string::npos);
  CHECK(text.find("grow: reads db_pool_clients_waitin, which no model publishes (") != std::string::npos);
  CHECK(text.find("did you mean db_pool_clients_waiting?") != std::string::npos);
  CHECK(text.find("grow: reads db_pool_sise, a knob the scenario does not govern (") != std::string::npos);
  CHECK(text.find("did you mean db_pool_size?") != std::string::npos);
  CHECK(text.find("static") == std::string::npos);  // the baseline had no problem

  auto clean = runBatch(s, {*s.config("static")}, options);
  REQUIRE(clean.ok());
  CHECK(problemsText(*clean).empty());
}
