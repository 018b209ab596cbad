// SPDX-License-Identifier: Apache-2.0
// ctx.predict (eta, trend, forecast) over a real SeriesStore and PredictService.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <random>
#include <string>

#include "policy/policy_engine.h"
#include "policy_test_support.h"
#include "predict/predict_service.h"

namespace trimtab::test {
namespace {

constexpr Seconds kStart = 1'000'000;  // Unix-like times
constexpr Seconds kStep = 10;           // scrape interval

int lineOf(const std::string& file, const std::string& needle) {
  std::ifstream in(file);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find(needle) != std::string::npos) return n;
  }
  return 0;
}

// near(a, b, tol, what): |a - b| <= tol, else an error naming both.
const char* kPrelude = R"(
local function near(a, b, tol, what)
  if type(a) ~= 'number' or math.abs(a - b) > tol then
    error(what .. ': got ' .. tostring(a) .. ', want ' .. tostring(b) .. ' +- ' .. tostring(tol), 2)
  end
end
local function eq(a, b, what)
  if a ~= b then error(what .. ': got ' .. tostring(a) .. ', want ' .. tostring(b), 2) end
end
)";

std::string policy(const std::string& name, const std::string& body, const std::string& fields = "") {
  return std::string(kPrelude) + "return {\n  name = '" + name + "',\n" + fields + "  tick = function(ctx)\n" +
         body + "\n  end,\n}\n";
}


PolicyLimits noQuarantine() {
  PolicyLimits limits = testLimits();
  limits.quarantineAfterErrors = 0;
  limits.cpuBudget = 0.05;
  return limits;
}

struct Fixture {
  Fixture() {
    host.setPredict(&service);
    host.addKnob("cleanup", 0, 0, 1);
    // History from the first scrape (policies are loaded after the scrapes).
    for (const char* metric : {"mem", "load", "flat"}) host.store().retain(metric, 4 * 3600);
  }
  TempDir dir;
  FakeHost host;
  PredictService service;
  PolicyEngine engine{noQuarantine(), host};

  std::string load(const std::string& name, const std::string& body) {
    std::string file = dir.write(name + ".lua", policy(name, body));
    Status added = engine.add(specFor(file));
    REQUIRE_MESSAGE(added.ok(), errorOf(added));
    return file;
  }
  // Scrapes `series(t)` (one sample per name) every kStep from kStart for `seconds`.
  void scrapeFor(Seconds seconds, const std::function<std::vector<TestSample>(Seconds)>& series) {
    for (Seconds t = kStart; t <= kStart + seconds; t += kStep) host.scrape(t, series(t));
  }
  PolicyTickResult tick(const std::string& name) {
    PolicyTickResult r = engine.tick(name, host.now());
    CHECK_MESSAGE(r.status.ok(), errorOf(r.status));
    return r;
  }
};

// A leak of 100 kB/s from 1 GB with 2 MB of seeded noise.
constexpr double kBase = 1e9, kLeak = 1e5, kNoise = 2e6;

}  // namespace

TEST_CASE("ctx.predict.eta: a leaking series crosses close to the analytic time") {
  Fixture f;
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, kNoise);
  f.scrapeFor(3600, [&](Seconds t) {
    return std::vector<TestSample>{{"mem", {{"pod", "a"}}, kBase + kLeak * (t - kStart) + noise(rng)}};
  });
  // The newest sample is at kStart + 3600: the line reaches the limit 7200 s later.
  const double limit = kBase + kLeak * (3600 + 7200);
  f.load("leak", "local limit = " + std::to_string(limit) + R"(
    local e, why = ctx.predict.eta('mem', {pod = 'a'}, limit, {window = '1h', horizon = '4h'})
    assert(e, why)
    eq(e.status, 'crossing', 'status')
    near(e.seconds, 7200, 360, 'seconds')
    assert(e.low <= e.seconds and e.seconds <= e.high, 'interval around the median')
    near(e.probability, 1, 0.05, 'probability within 4h')
    assert(e.p_value < 0.01, 'significant: ' .. e.p_value)
    near(e.slope, 1e5, 1e4, 'slope')
    eq(e.as_of, ctx.now, 'as_of')
    eq(e.shape, 'plain', 'shape')
    assert(type(e.model) == 'string' and #e.model > 0, 'model')
    -- the method form and seconds as durations work too
    local m = ctx.predict:eta('mem', {pod = 'a'}, limit, {window = 3600, horizon = 14400})
    eq(m.status, 'crossing', 'method form')
    -- within a 1h horizon the crossing is unlikely
    local short = ctx.predict.eta('mem', {pod = 'a'}, limit, {horizon = '1h'})
    assert(short.probability < 0.05, 'probability within 1h: ' .. short.probability)
    ctx.propose('cleanup', 1, string.format('eta %.0f s', e.seconds)))");
  PolicyTickResult r = f.tick("leak");
  REQUIRE(r.proposals.size() == 1);
  const std::vector<InputRead>& in = r.proposals[0].inputs;
  REQUIRE(in.size() == 3);
  CHECK(in[0].what == "eta(mem{pod=\"a\"}[1h], 2080000000)");
  CHECK(in[0].value == doctest::Approx(7200).epsilon(0.05));
  CHECK_FALSE(in[0].stale);
  CHECK_FALSE(in[0].missing);

  SUBCASE("later ticks update the cached series incrementally") {
    const std::size_t cached = f.service.cachedSeries();
    const std::uint64_t fitsBefore = f.service.stats().fits;
    for (int i = 1; i <= 5; ++i) {
      Seconds t = kStart + 3600 + i * kStep;
      f.host.scrape(t, {{"mem", {{"pod", "a"}}, kBase + kLeak * (t - kStart) + noise(rng)}});
      f.tick("leak");
    }
    CHECK(f.service.cachedSeries() == cached);  // same keys: no new state per tick
    CHECK(f.service.stats().refreshes > 0);
    CHECK(f.service.stats().fits - fitsBefore < 5 * 3);  // not a full refit of every question every tick
  }
}

TEST_CASE("ctx.predict.eta and trend: a flat noisy series has no crossing and no trend") {
  Fixture f;
  std::mt19937 rng(11);
  std::normal_distribution<double> noise(0, 1e7);
  f.scrapeFor(3600, [&](Seconds) { return std::vector<TestSample>{{"flat", {}, 5e8 + noise(rng)}}; });
  f.load("flat", R"(
    local e = ctx.predict.eta('flat', nil, 1e9)
    eq(e.status, 'none', 'status')
    eq(e.seconds, math.huge, 'no eta')
    eq(e.probability, 0, 'probability')
    local t = ctx.predict.trend('flat', '1h')
    eq(t.significant, false, 'significant')
    assert(t.p_value > 0.01, 'p_value ' .. t.p_value)
    local already = ctx.predict.eta('flat', nil, 1e8)
    eq(already.status, 'already', 'already above the limit')
    eq(already.seconds, 0, 'already: seconds'))");
  f.tick("flat");
}

TEST_CASE("ctx.predict.trend: a rising series is significant with its slope") {
  Fixture f;
  std::mt19937 rng(3);
  std::normal_distribution<double> noise(0, kNoise);
  f.scrapeFor(3600, [&](Seconds t) {
    return std::vector<TestSample>{{"mem", {}, kBase + kLeak * (t - kStart) + noise(rng)}};
  });
  f.load("trend", R"(
    local t, why = ctx.predict.trend('mem', '1h', {alpha = 0.05})
    assert(t, why)
    eq(t.significant, true, 'significant')
    assert(t.p_value < 0.001, 'p_value ' .. t.p_value)
    near(t.slope, 1e5, 1e4, 'slope')
    eq(t.shape, 'plain', 'shape')
    eq(t.as_of, ctx.now, 'as_of')
    local forced = ctx.predict.trend('mem', nil, '30m', {model = 'ols'})
    eq(forced.model, 'ols', 'forced model')
    near(forced.slope, 1e5, 1e4, 'forced slope')
    ctx.propose('cleanup', 0))");
  PolicyTickResult r = f.tick("trend");
  REQUIRE(r.proposals.size() == 1);
  CHECK(r.proposals[0].inputs.at(0).what == "trend(mem[1h])");
  CHECK(r.proposals[0].inputs.at(0).value == doctest::Approx(kLeak).epsilon(0.1));
  CHECK(r.proposals[0].inputs.at(1).what == "trend(mem[30m])");
}

TEST_CASE("ctx.predict.forecast: an hourly cycle is forecast with its phase") {
  Fixture f;
  constexpr double kMean = 100, kAmplitude = 40, kPeriod = 3600;
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 2);
  auto load = [&](Seconds t) { return kMean + kAmplitude * std::sin(2 * M_PI * (t - kStart) / kPeriod); };
  f.scrapeFor(4 * 3600, [&](Seconds t) { return std::vector<TestSample>{{"load", {}, load(t) + noise(rng)}}; });
  const Seconds newest = kStart + 4 * 3600;
  // A quarter period ahead: the peak of the cycle, far from the current value.
  const double expected = load(newest + 900);
  f.load("season", "local expected = " + std::to_string(expected) + R"(
    local fc, why = ctx.predict.forecast('load', nil, '15m', {window = '4h'})
    assert(fc, why)
    near(fc.value, expected, 8, 'value')
    assert(fc.low < fc.value and fc.value < fc.high, 'interval')
    assert(fc.low <= expected and expected <= fc.high, 'the truth is inside the interval')
    eq(fc.at, ctx.now + 900, 'at')
    eq(fc.model, 'holt_winters', 'model')
    ctx.propose('cleanup', 0))");
  PolicyTickResult r = f.tick("season");
  REQUIRE(r.proposals.size() == 1);
  CHECK(r.proposals[0].inputs.at(0).what == "forecast(load[4h], 15m)");
  CHECK(r.proposals[0].inputs.at(0).value == doctest::Approx(expected).epsilon(0.1));
}

TEST_CASE("ctx.predict: stale, missing, ambiguous and insufficient data are answers, recorded for the veto") {
  Fixture f;
  f.scrapeFor(600, [&](Seconds t) {
    return std::vector<TestSample>{{"mem", {{"pod", "a"}}, kBase + kLeak * (t - kStart)},
                                   {"mem", {{"pod", "b"}}, kBase}};
  });
  f.host.scrape(kStart + 610, {{"load", {}, 1}});
  f.load("gaps", R"(
    local e, why = ctx.predict.eta('nope', nil, 1)
    eq(e, nil, 'missing: value') ; eq(why, 'missing', 'missing')
    local a, why2, message = ctx.predict.eta('mem', nil, 2e9)
    eq(a, nil, 'ambiguous: value') ; eq(why2, 'ambiguous', 'ambiguous')
    eq(message, 'mem matches 2 series; add labels to pick one', 'message')
    local few = ctx.predict.eta('load', nil, 2)
    eq(few.status, 'insufficient', 'one sample')
    local t, why3 = ctx.predict.trend('load', '1h')
    eq(t, nil, 'trend: value') ; eq(why3, 'insufficient', 'trend: insufficient')
    local fc, why4 = ctx.predict.forecast('load', nil, '5m')
    eq(fc, nil, 'forecast: value') ; eq(why4, 'insufficient', 'forecast: insufficient')
    local s, why5 = ctx.predict.eta('mem', {pod = 'a'}, 2e9)
    if ctx.now > )" + std::to_string(kStart + 610) + R"( then
      eq(s, nil, 'stale: value') ; eq(why5, 'stale', 'stale')
    else
      eq(s.status, 'crossing', 'fresh')
    end
    ctx.propose('cleanup', 1))");
  PolicyTickResult fresh = f.tick("gaps");
  REQUIRE(fresh.proposals.size() == 1);
  const std::vector<InputRead>& in = fresh.proposals[0].inputs;
  REQUIRE(in.size() == 6);
  CHECK(in[0].what == "eta(nope[1h], 1)");
  CHECK(in[0].missing);
  CHECK(std::isnan(in[0].value));
  CHECK(in[1].missing);        // ambiguous: the governor must not act on it
  CHECK_FALSE(in[2].missing);  // eta answered "insufficient"
  CHECK(in[3].missing);        // trend and forecast without enough data: no answer
  CHECK(in[4].missing);
  CHECK(in[5].what == "eta(mem{pod=\"a\"}[1h], 2000000000)");
  CHECK_FALSE(in[5].stale);
  CHECK_FALSE(in[5].missing);

  // pod a stops reporting: after three scrapes without it, it is stale.
  for (int i = 1; i <= 3; ++i) {
    f.host.scrape(kStart + 610 + i * kStep, {{"mem", {{"pod", "b"}}, kBase}, {"load", {}, 1}});
  }
  PolicyTickResult stale = f.tick("gaps");
  REQUIRE(stale.proposals.size() == 1);
  REQUIRE(stale.proposals[0].inputs.size() == 6);
  CHECK(stale.proposals[0].inputs[5].stale);
  CHECK(std::isnan(stale.proposals[0].inputs[5].value));
}

TEST_CASE("ctx.predict: bad arguments fail the tick with the policy's file:line") {
  Fixture f;
  f.scrapeFor(600, [&](Seconds t) { return std::vector<TestSample>{{"mem", {}, kBase + kLeak * (t - kStart)}}; });
  const Seconds now = f.host.now();
  std::string file = f.load("bad", "local base = " + std::to_string(now) + R"(
    local which = ctx.now - base
    if which == 0 then ctx.predict.eta('mem', nil, 2e9, {model = 'nope'}) end
    if which == 1 then ctx.predict.eta('mem', nil, 2e9, {horizn = '1h'}) end
    if which == 2 then ctx.predict.eta('mem', nil, 'lots') end
    if which == 3 then ctx.predict.eta('mem', nil, 2e9, {window = 'soon'}) end
    if which == 4 then ctx.predict.eta('mem', nil, 2e9, {alpha = 2}) end
    if which == 5 then ctx.predict.trend('mem', '1h', {window = '2h'}) end
    if which == 6 then ctx.predict.forecast('mem', nil, -5) end
    if which == 7 then ctx.predict.eta('mem', nil, 0/0) end
    if which == 8 then ctx.predict.eta('mem', nil, 2e9, 'fast') end
    if which == 9 then ctx.predict.eta('mem', nil, 2e9, {counter = 'yes'}) end
    if which == 10 then ctx.predict.eta('mem', nil, 2e9, {level = 1}) end
    if which == 11 then ctx.predict.eta = nil end
    if which == 12 then ctx.predict.trend('mem', '1h', {model = 'theil_sne'}) end)");
  int which = 0;
  auto err = [&]() { return errorOf(f.engine.tick("bad", now + which++).status); };
  std::string where = file + ":" + std::to_string(lineOf(file, "which == 0")) + ": ";
  CHECK(contains(err(), where + "ctx.predict.eta: option 'model': unknown estimator 'nope' (known: "));
  CHECK(contains(err(), "ctx.predict.eta: unknown option 'horizn' (did you mean 'horizon'?)"));
  CHECK(contains(err(), "bad argument #3 to 'eta' (number expected, got string)"));
  CHECK(contains(err(), "ctx.predict.eta: option 'window': expected a duration like 5s or 2m, got 'soon'"));
  CHECK(contains(err(), "ctx.predict.eta: option 'alpha': must be in (0, 1)"));
  CHECK(contains(err(), "ctx.predict.trend: option 'window' does not apply here (options: horizon model counter alpha)"));
  CHECK(contains(err(), "bad argument #3 to 'forecast' (horizon: must be a positive duration)"));
  CHECK(contains(err(), "bad argument #3 to 'eta' (the limit must be a finite number)"));
  CHECK(contains(err(), "bad argument #4 to 'eta' (table of options or nil expected, got string)"));
  CHECK(contains(err(), "ctx.predict.eta: option 'counter': expected true or false"));
  CHECK(contains(err(), "ctx.predict.eta: option 'level': must be in (0, 1)"));
  CHECK(contains(err(), "ctx.predict is read-only (tried to set 'eta')"));
  CHECK(contains(err(), "ctx.predict.trend: option 'model': unknown estimator 'theil_sne' (did you mean 'theil_sen'?)"));
}

TEST_CASE("ctx.predict: a counter series gets counter semantics across resets") {
  Fixture f;
  // A counter growing by 1000/s that resets to 0 halfway: as a counter it has
  // grown by 3.6e6 at the end; as a gauge the drop restarts its history.
  f.scrapeFor(3600, [&](Seconds t) {
    Seconds age = t - kStart;
    double v = age < 1800 ? 1000 * age : 1000 * (age - 1800);
    return std::vector<TestSample>{{"mem", {}, v, MetricType::Counter}};
  });
  f.load("counter", R"(
    local c = ctx.predict.forecast('mem', nil, '15m', {model = 'ols'})
    near(c.value, 3.6e6 + 9e5, 5e4, 'counter forecast')
    local g = ctx.predict.forecast('mem', nil, '15m', {model = 'ols', counter = false})
    near(g.value, 1.8e6 + 9e5, 5e4, 'gauge forecast'))");
  f.tick("counter");
}

TEST_CASE("example cleanup_before_oom: cleans up before a leak's crossing, not on a GC sawtooth") {
  PredictService service;
  FakeHost host;
  host.setPredict(&service);
  KnobState& knob = host.addKnob("cleanup", 0, 0, 1);
  PolicyEngine engine(testLimits(), host);
  Status added = engine.add(specFor(TRIMTAB_SOURCE_DIR "/policies/examples/cleanup_before_oom.lua",
                                    {{"limit", std::string("1GiB")}, {"horizon", std::string("2h")},
                                     {"job", std::string("app")}, {"calm", std::string("10m")}}));
  REQUIRE_MESSAGE(added.ok(), errorOf(added));
  constexpr double kMiB = 1 << 20;
  // A heap collected every 5 minutes from 700 MiB back to a floor of 400 MiB.
  auto sawtooth = [&](Seconds t, double floorGrowth) {
    Seconds age = t - kStart;
    double phase = std::fmod(age, 300) / 300;
    return std::vector<TestSample>{
        {"process_resident_memory_bytes", {{"job", "app"}}, (400 + 300 * phase) * kMiB + floorGrowth * age},
        {"process_resident_memory_bytes", {{"job", "other"}}, 50 * kMiB}};
  };
  auto tick = [&](Seconds now) {
    PolicyTickResult r = engine.tick("cleanup_before_oom", now);
    CHECK_MESSAGE(r.status.ok(), errorOf(r.status));
    return r;
  };

  SUBCASE("a sawtooth that returns to its floor is left alone") {
    for (Seconds t = kStart; t <= kStart + 3600; t += kStep) host.scrape(t, sawtooth(t, 0));
    CHECK(tick(kStart + 3600).proposals.empty());
  }
  SUBCASE("a rising floor is a leak: clean up, then back off when it is over") {
    // The floor rises by 150 MiB an hour: the peaks reach 1 GiB about 1.3 h after the last sample.
    const double leak = 150 * kMiB / 3600;
    for (Seconds t = kStart; t <= kStart + 3600; t += kStep) host.scrape(t, sawtooth(t, leak));
    PolicyTickResult r = tick(kStart + 3600);
    REQUIRE(r.proposals.size() == 1);
    CHECK(r.proposals[0].value == 1);
    CHECK(contains(r.proposals[0].reason, "memory reaches 1024 MiB in "));
    CHECK(r.proposals[0].inputs.at(0).what == "eta(process_resident_memory_bytes{job=\"app\"}[1h], 1073741824)");

    // The cleanup worked: the heap is back to a flat sawtooth from 1 h on.
    knob.current = 1;
    Seconds t = kStart + 3600 + kStep;
    for (; t <= kStart + 3 * 3600; t += kStep) host.scrape(t, sawtooth(t, 0));
    Seconds now = t - kStep;
    CHECK(tick(now).proposals.empty());  // calm starts
    for (Seconds u = now + kStep; u <= now + 600; u += kStep) host.scrape(u, sawtooth(u, 0));
    PolicyTickResult back = tick(now + 600);
    REQUIRE(back.proposals.size() == 1);
    CHECK(back.proposals[0].value == 0);
    CHECK(contains(back.proposals[0].reason, "no likely crossing of 1024 MiB for 600 s"));
  }
}

}  // namespace trimtab::test
