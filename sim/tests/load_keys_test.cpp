// SPDX-License-Identifier: Apache-2.0
#include "sim/models/cache_math.h"
#include "sim/models/key_popularity_model.h"
#include "sim/models/load_model.h"
#include "sim/models/replay_load.h"

#include <doctest/doctest.h>

#include <cmath>
#include <numeric>

using namespace trimtab::sim;

namespace {

double loadAt(LoadModel& m, double t, SimWorld& world, double before = 0, double dt = 1) {
  world.beginStep(t - dt / 2, dt);  // the shape is evaluated mid-step
  world.load.rps = before;
  m.step(t - dt / 2, dt, world);
  return world.load.rps;
}

}  // namespace

TEST_CASE("constant, ramp and step loads") {
  SimWorld w(1);
  ConstantLoad c({}, 42);
  CHECK(loadAt(c, 10, w) == 42);
  RampLoad r({}, {10, 110, 100, 50});
  CHECK(loadAt(r, 50, w) == 10);
  CHECK(loadAt(r, 125, w) == doctest::Approx(60));
  CHECK(loadAt(r, 1000, w) == 110);
  StepLoad s({}, 5, {{100, 50}, {50, 20}});
  CHECK(loadAt(s, 10, w) == 5);
  CHECK(loadAt(s, 60, w) == 20);
  CHECK(loadAt(s, 150, w) == 50);
}

TEST_CASE("diurnal load peaks at peak_at and has weekends") {
  SimWorld w(1);
  DiurnalLoad::Params p;
  p.mean = 100;
  p.amplitude = 0.6;
  p.peakAt = 14 * 3600;
  p.weekendFactor = 0.5;
  DiurnalLoad d({}, p);
  CHECK(loadAt(d, 14 * 3600, w) == doctest::Approx(160));
  CHECK(loadAt(d, 2 * 3600, w) == doctest::Approx(40));
  CHECK(loadAt(d, 8 * 3600, w) == doctest::Approx(100).epsilon(1e-9));
  CHECK(loadAt(d, 5 * 86400 + 14 * 3600, w) == doctest::Approx(80));  // Saturday
  CHECK(loadAt(d, 7 * 86400 + 14 * 3600, w) == doctest::Approx(160));
}

TEST_CASE("flash crowd multiplies the load beneath it") {
  SimWorld w(1);
  FlashCrowdLoad::Params p;
  p.multiplier = 50;
  p.at = 1000;
  p.rise = 100;
  p.duration = 300;
  p.fall = 100;
  LoadModel::Common c;
  c.combine = LoadModel::Combine::Multiply;
  FlashCrowdLoad f(c, p);
  CHECK(loadAt(f, 500, w, 200) == 200);
  CHECK(loadAt(f, 1050, w, 200) == doctest::Approx(200 * 25.5));
  CHECK(loadAt(f, 1200, w, 200) == doctest::Approx(200 * 50));
  CHECK(loadAt(f, 1450, w, 200) == doctest::Approx(200 * 25.5));
  CHECK(loadAt(f, 2000, w, 200) == 200);
}

TEST_CASE("load noise has mean one, is correlated and seeded") {
  LoadModel::Common c;
  c.noise = 0.2;
  c.noiseCorrelation = 60;
  auto run = [&](std::uint64_t seed) {
    SimWorld w(seed);
    ConstantLoad m(c, 100);
    std::vector<double> out;
    for (int i = 0; i < 200000; ++i) {
      w.beginStep(i, 1);
      m.step(i, 1, w);
      out.push_back(w.load.rps);
    }
    return out;
  };
  const auto a = run(11), b = run(11), other = run(12);
  CHECK(a == b);
  CHECK(a != other);
  const double mean = std::accumulate(a.begin(), a.end(), 0.0) / a.size();
  CHECK(mean == doctest::Approx(100).epsilon(0.03));
  double jump = 0;
  for (std::size_t i = 1; i < a.size(); ++i) jump += std::abs(a[i] - a[i - 1]);
  CHECK(jump / a.size() < 0.25 * 100 * 0.2);  // smooth at the scale of a second
}

TEST_CASE("replay CSV: header, comments, speed, loop, errors") {
  const char* csv = "time,value\n# recorded\n1000,10\n1010,20\n1020,40\n";
  auto s = ReplayLoad::parseCsv(csv, 1, 1.0, "rec.csv");
  REQUIRE(s.ok());
  CHECK(s->times == std::vector<double>{0, 10, 20});
  ReplayLoad::Params p;
  p.series = *s;
  p.speed = 2;
  ReplayLoad r({}, p);
  SimWorld w(1);
  CHECK(loadAt(r, 2.5, w) == doctest::Approx(15));   // recorded t = 5
  CHECK(loadAt(r, 7.5, w) == doctest::Approx(30));   // recorded t = 15
  CHECK(loadAt(r, 12.5, w) == doctest::Approx(25));   // recorded 25: last row back to the first
  CHECK(loadAt(r, 17.5, w) == doctest::Approx(15));   // recorded 35 -> 5 after a 30 s loop
  p.loop = false;
  p.speed = 1;
  p.scale = 3;
  ReplayLoad once({}, p);
  CHECK(loadAt(once, 100, w) == doctest::Approx(120));

  CHECK(ReplayLoad::parseCsv("\"t\",\"v\"\n\"0\",\"1.5\"\n", 1, 1, "q.csv").ok());
  CHECK(ReplayLoad::parseCsv("0,1\n5000,2\n", 1, 1e-3, "ms.csv")->times.back() == 5);
  auto bad = ReplayLoad::parseCsv("t,v\n0,1\n5,abc\n", 1, 1, "bad.csv");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.csv:3:") != std::string::npos);
  auto order = ReplayLoad::parseCsv("0,1\n5,2\n5,3\n", 1, 1, "o.csv");
  REQUIRE_FALSE(order.ok());
  CHECK(order.error().message.find("o.csv:3:") != std::string::npos);
  CHECK_FALSE(ReplayLoad::parseCsv("0,1\n1\n", 1, 1, "c.csv").ok());
  CHECK_FALSE(ReplayLoad::parseCsv("# nothing\n", 1, 1, "e.csv").ok());
  CHECK_FALSE(ReplayLoad::parseCsv("0,-1\n", 1, 1, "n.csv").ok());
  CHECK_FALSE(ReplayLoad::parseCsv("t,v\nx,y\n", 1, 1, "h.csv").ok());
}

TEST_CASE("zipf normalizer: Euler-Maclaurin tail matches the exact sum") {
  for (double s : {0.5, 0.99, 1.0, 1.2}) {
    double exact = 0;
    for (int r = 1; r <= 300000; ++r) exact += std::pow(r, -s);
    CAPTURE(s);
    CHECK(zipfHarmonic(300000, s) == doctest::Approx(exact).epsilon(1e-11));
  }
  CHECK(zipfHarmonic(3, 1) == doctest::Approx(1 + 0.5 + 1.0 / 3));
}

TEST_CASE("key popularity classes") {
  auto sum = [](const std::vector<KeyClass>& cs) {
    double p = 0, k = 0;
    for (const auto& c : cs) {
      p += c.keys * c.probPerKey;
      k += c.keys;
    }
    return std::pair{p, k};
  };
  KeyPopularityModel::Params p;
  p.kind = KeyPopularityModel::Kind::Zipf;
  p.keys = 1e7;
  p.exponent = 0.9;
  KeyPopularityModel z(p);
  CHECK(z.classes().size() <= 64);
  CHECK(sum(z.classes()).first == doctest::Approx(1).epsilon(1e-12));
  CHECK(sum(z.classes()).second == 1e7);
  CHECK(z.classes()[0].keys == 1);
  CHECK(z.classes()[0].probPerKey == doctest::Approx(1 / zipfHarmonic(1e7, 0.9)));
  for (std::size_t j = 1; j < z.classes().size(); ++j) {
    CHECK(z.classes()[j].probPerKey < z.classes()[j - 1].probPerKey);
  }

  p.kind = KeyPopularityModel::Kind::Hotspot;
  p.keys = 1000;
  KeyPopularityModel h(p);
  REQUIRE(h.classes().size() == 2);
  CHECK(h.classes()[0].keys == 100);
  CHECK(h.classes()[0].keys * h.classes()[0].probPerKey == doctest::Approx(0.9));
  CHECK(sum(h.classes()).first == doctest::Approx(1));

  p.kind = KeyPopularityModel::Kind::Uniform;
  KeyPopularityModel u(p);
  CHECK(u.classes().size() == 1);
  CHECK(u.classes()[0].probPerKey == doctest::Approx(0.001));
}

TEST_CASE("hotspot shift: generation, remap rows, event") {
  KeyPopularityModel::Params p;
  p.kind = KeyPopularityModel::Kind::Hotspot;
  p.keys = 1000;
  p.shiftEvery = 100;
  KeyPopularityModel h(p);
  SimWorld w(1);
  REQUIRE(h.attach(w).ok());
  CHECK_FALSE(h.attach(w).ok());  // one key space per scenario
  for (int t = 0; t < 250; ++t) {
    w.beginStep(t, 1);
    h.step(t, 1, w);
  }
  CHECK(w.keys.generation == 2);
  REQUIRE(w.keys.remap.size() == 4);
  CHECK(w.keys.remap[0] + w.keys.remap[1] == doctest::Approx(1));
  CHECK(w.keys.remap[2] + w.keys.remap[3] == doctest::Approx(1));
  CHECK(w.keys.remap[1] == 1);  // the new hot keys were all cold
  REQUIRE(w.events.size() == 2);
  CHECK(w.events[0].what == "hot_set_shift");
  CHECK(w.events[0].time == 100);
}
