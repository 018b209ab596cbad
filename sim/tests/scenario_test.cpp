// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <filesystem>

#include "driver_test_support.h"
#include "sim/driver/scenario_models.h"

using namespace trimtab;
using namespace trimtab::sim;
using namespace trimtab::sim::testing;

namespace {

std::string errorsOf(const std::string& text) {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto s = loadScenarioString(text, "bad.yaml", diagnostics);
  return s.ok() ? "" : s.error().message;
}

}  // namespace

TEST_CASE("knob bounds, unit and baseline default to what the model accepts") {
  ScratchDir dir("knobs");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  CHECK(s.name == "overloaded");
  CHECK(s.duration == 600);
  CHECK(s.sloLatencyP95 == doctest::Approx(0.2));
  CHECK(s.sourceInterval == 5);  // from the monitoring model
  REQUIRE(s.knobs.size() == 1);
  const KnobSpec& k = s.knobs[0].spec;
  CHECK(k.name == "db_pool_size");
  CHECK(k.integer);
  CHECK(k.min == 1);
  CHECK(k.max == 40);
  CHECK(k.maxStep == 10);
  CHECK(k.baseline == 3);  // the model's size
  CHECK(k.unit == "connections");
  REQUIRE(s.configs.size() == 2);
  CHECK(s.configs[1].policies.at(0).file == (dir.path / "grow.lua").string());
  CHECK(s.configs[0].knobValues.at("db_pool_size") == 3);
  CHECK(s.sampleInterval() == 1);  // 600 s / 2000 buckets, at least one step
}

TEST_CASE("scenario errors are located and suggest the right name") {
  CHECK(errorsOf("models: [{model: load.constnt}]").find("did you mean 'load.constant'") != std::string::npos);
  const std::string knob = errorsOf(R"(
models: [{model: load.constant}, {model: pool}]
knobs: [{name: db_pool_sise}]
)");
  CHECK(knob.find("bad.yaml:3") != std::string::npos);
  CHECK(knob.find("did you mean 'db_pool_size'") != std::string::npos);
  // A model that fails to build is one error, not one more per knob of it.
  const std::string model = errorsOf(R"(
models: [{model: load.constant}, {model: cache, ttl: 1 hour}]
knobs: [{name: cache_ttl_seconds}, {name: cache_capacity_entries}]
configs: [{name: a, knobs: {cache_ttl_seconds: 60}}]
)");
  CHECK_MESSAGE(model.find("ttl: expected a duration") != std::string::npos, model);
  CHECK_MESSAGE(model.find("no model accepts") == std::string::npos, model);
  const std::string value = errorsOf(R"(
models: [{model: load.constant}, {model: pool}]
configs: [{name: a, knobs: {db_pool_sise: 4}}]
)");
  CHECK(value.find("bad.yaml:3") != std::string::npos);
  CHECK(value.find("no model accepts knob 'db_pool_sise' (did you mean 'db_pool_size'?)") != std::string::npos);
  CHECK(errorsOf("duration: soon\nmodels: [{model: load.constant}]").find("duration") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}]\nconfigz: []").find("did you mean 'configs'") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}]\nconfigs: [{name: a, policies: [{file: nope.lua}]}]")
            .find("nope.lua") != std::string::npos);
  CHECK(errorsOf("models: [{model: cache}]\nconfigs: [{name: a, knobs: {cache_flush: 1}}]").find("trigger") !=
        std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}]\nperturb: {load.constant.rps: 2}").find("spread") !=
        std::string::npos);
  CHECK(errorsOf("models: [").find("invalid YAML") != std::string::npos);
  // Values the models would clamp silently, and a perturbation of nothing.
  const std::string pool = "models: [{model: load.constant, rps: 10}, {model: pool}, {model: app}]\n";
  CHECK(errorsOf(pool + "knobs: [{name: db_pool_size, min: 5, max: 80}]\n"
                        "configs: [{name: a, knobs: {db_pool_size: 5000}}]")
            .find("expected a value within [5, 80] (the knob's bounds in knobs:), got 5000") != std::string::npos);
  CHECK(errorsOf(pool + "configs: [{name: a, knobs: {db_pool_size: 0}}]")
            .find("expected a value within [1, ") != std::string::npos);
  CHECK(errorsOf(pool + "knobs: [{name: db_pool_size, min: -1000, max: 80}]")
            .find("min: expected at least 1, the least the model accepts, got -1000") != std::string::npos);
  CHECK(errorsOf(pool + "knobs: [{name: db_pool_size, min: 5, max: 80, baseline: 100}]")
            .find("baseline: expected a baseline within [5, 80], got 100") != std::string::npos);
  CHECK(errorsOf(pool + "perturb: {load.constant.nope: 0.2}").find("no model of kind 'load.constant' sets 'nope'") !=
        std::string::npos);
  CHECK(errorsOf(pool + "perturb: {load.constant.rps: 0.2}").empty());
  CHECK(errorsOf("seed: -1\n" + pool).find("seed: expected an integer >= 0, got -1") != std::string::npos);
  CHECK_FALSE(errorsOf("").empty());
  // primary_score names a judged score: a typo gets a suggestion, a score
  // nobody is judged on (requests) is refused.
  const std::string primary = errorsOf("primary_score: oom_kill\nmodels: [{model: load.constant}]");
  CHECK(primary.find("bad.yaml:1") != std::string::npos);
  CHECK(primary.find("did you mean 'oom_kills'") != std::string::npos);
  CHECK(errorsOf("primary_score: requests\nmodels: [{model: load.constant}]").find("unknown score 'requests'") !=
        std::string::npos);
}

TEST_CASE("every shipped scenario loads") {
  const auto dir = std::filesystem::path(TRIMTAB_SOURCE_DIR) / "sim" / "scenarios";
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".yaml") continue;
    CAPTURE(entry.path().string());
    auto diagnostics = std::make_shared<ConfigDiagnostics>();
    auto s = loadScenario(entry.path().string(), diagnostics);
    CHECK_MESSAGE(s.ok(), (s.ok() ? "" : s.error().message));
    if (s.ok()) {
      CHECK(s->configs.size() >= 2);  // a static baseline and something to compare
      CHECK(s->configs.front().policies.empty());
    }
    ++count;
  }
  CHECK(count >= 5);
}

TEST_CASE("--perturb draws the same factors for the same seed, others for another") {
  ScratchDir dir("perturb");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  auto factors = [&](std::uint64_t seed) {
    ModelStack stack(seed);
    std::vector<AppliedPerturbation> applied;
    REQUIRE(addScenarioModels(s, seed, stack, &applied).ok());
    REQUIRE(applied.size() == 1);  // the default: load levels (rps of load.constant)
    CHECK(applied[0].path == "models[0].rps");
    CHECK(applied[0].factor >= 0.8);
    CHECK(applied[0].factor <= 1.2);
    return applied[0].factor;
  };
  CHECK(factors(1) == factors(1));
  CHECK(factors(1) != factors(2));
}

TEST_CASE("scenario checks: names that are paths, self on a model knob, models twice or missing, bad draws") {
  const std::string ok = "models: [{model: load.constant, rps: 10}, {model: pool}, {model: app}]\n";
  REQUIRE(errorsOf(ok).empty());
  // The name is the output directory's: no path, no "." or "..".
  for (const char* name : {"../../x", "..", ".", "/tmp/x", "a/b", "-x"}) {
    const std::string e = errorsOf(std::string("name: '") + name + "'\n" + ok);
    CHECK_MESSAGE(e.find("name: expected a name of letters, digits") != std::string::npos, e);
  }
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto unnamed = loadScenarioString(ok, "/tmp/my scenario.yaml", diagnostics);
  REQUIRE(unnamed.ok());
  CHECK(unnamed->name == "scenario");  // the file's stem is no valid name
  CHECK(errorsOf(ok + "knobs: [{name: db_pool_size, actuator: self}]")
            .find("self sets the sim source's scrape interval, but 'db_pool_size' is a model's knob") !=
        std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: app}, {model: app}]")
            .find("models[2].model: a second app model (the first is models[1])") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: memory}, {model: memory}, {model: app}]")
            .find("a second memory model") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: keys.zipf}, {model: keys.uniform}, {model: app}]")
            .find("a second key popularity model") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.step, steps: [{at: 0, rps: 5}]}, {model: app}]\n"
                 "perturb: {load.step.steps: 0.2}")
            .find("'load.step.steps' is a list or mapping") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: pool}]").find("expected an app model") !=
        std::string::npos);
  CHECK(errorsOf("models: [{model: pool}, {model: app}]").find("expected a load model") != std::string::npos);
  // A word cannot be drawn at all. (Whether a drawn value is accepted depends
  // on the seeds: `trimtab sim --perturb` checks every seed's draws first.)
  const std::string sized = "models: [{model: load.constant, rps: 10}, {model: pool, size: 7}, {model: app}]\n";
  CHECK(errorsOf(sized + "perturb: {pool.size: 0.5}").empty());
  CHECK(errorsOf("models: [{model: load.constant, rps: 10}, {model: cache, in_process: true}, {model: app}]\n"
                 "perturb: {cache.in_process: 0.5}")
            .find("'cache.in_process' is not a number, duration or size") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: pool, labels: {bad-name: x}}, {model: app}]")
            .find("label name 'bad-name'") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: pool, labels: {__name__: x}}, {model: app}]")
            .find("label name '__name__'") != std::string::npos);
  CHECK(errorsOf("duration: 2h\nstep: 7s\n" + ok)
            .find("duration: expected a whole number of 7 s steps, got 7200 s (7196 s or 7203 s would do)") !=
        std::string::npos);
  CHECK(errorsOf("primary_score: zzzzzz\n" + ok).find("(scores: ") != std::string::npos);
}

TEST_CASE("a memory limit the process starts above is refused") {
  CHECK(errorsOf("models: [{model: load.constant}, {model: memory, limit: 1B}, {model: app}]")
            .find("limit: expected more than baseline + live_heap") != std::string::npos);
  CHECK(errorsOf("models: [{model: load.constant}, {model: memory, limit: 2GiB}, {model: app}]").empty());
}
