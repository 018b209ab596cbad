// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "predict/regular_grid.h"
#include "predict/sawtooth.h"
#include "predict/season.h"
#include "predict/trend_test.h"
#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::noisy;
using trimtab::testing::sampled;
using trimtab::testing::sawtoothSeries;

TEST_CASE("round grid steps") {
  CHECK(niceStep(0.3) == doctest::Approx(0.5));
  CHECK(niceStep(7) == 10);
  CHECK(niceStep(590) == 600);
  CHECK(niceStep(4000) == 7200);
  CHECK(niceStep(200000) == 3 * 86400);
}

TEST_CASE("regularize: median step, interpolated gaps, at most maxPoints") {
  std::vector<Point> pts;
  for (int i = 0; i < 100; ++i) {
    if (i >= 40 && i < 50) continue;  // a gap
    pts.push_back({i * 60.0, 2.0 * i});
  }
  auto g = regularize(pts);
  REQUIRE(g);
  CHECK(g->step == 60);
  CHECK(g->values.size() == 100);
  CHECK(g->values[45] == doctest::Approx(90));  // interpolated across the gap
  CHECK(g->end() == pts.back().t);
  auto big = regularize(sampled(100000, 1, [](double t) { return t; }), 512);
  REQUIRE(big);
  CHECK(big->values.size() <= 512);
  CHECK_FALSE(regularize(std::vector<Point>{{1, 1}}));
}

TEST_CASE("season found by autocorrelation; none in noise or a line") {
  std::vector<double> daily;
  for (int i = 0; i < 480; ++i) daily.push_back(10 * std::sin(2 * std::numbers::pi * i / 96.0) + 0.01 * i);
  auto s = detectSeason(daily);
  REQUIRE(s);
  CHECK(s->period == 96);
  auto pattern = seasonalPattern(daily, 96);
  CHECK(pattern[24] == doctest::Approx(10).epsilon(0.05));

  auto noise = noisy(sampled(480, 1, [](double) { return 0.0; }), 1, 8);
  std::vector<double> nv;
  for (auto& p : noise) nv.push_back(p.v);
  CHECK_FALSE(detectSeason(nv));
  std::vector<double> line;
  for (int i = 0; i < 480; ++i) line.push_back(i);
  CHECK_FALSE(detectSeason(line));
}

TEST_CASE("sawtooth detection: drops found in a collected heap, not in noise, steps or a wave") {
  auto saw = sawtoothSeries(600, 10, 300, 200, 0.01);
  auto shape = detectSawtooth(saw);
  REQUIRE(shape);
  CHECK(shape->floors.size() >= 18);
  CHECK(shape->peaks.size() == shape->floors.size());
  CHECK_FALSE(detectSawtooth(noisy(sampled(600, 10, [](double) { return 100.0; }), 5, 3)));
  CHECK_FALSE(detectSawtooth(sampled(600, 10, [](double t) { return 100.0 * std::floor(t / 1000); })));
  CHECK_FALSE(detectSawtooth(sampled(600, 10, [](double t) { return std::sin(t / 500); })));
}

TEST_CASE("trend tests by shape: floors for a sawtooth, season removed for a cycle") {
  auto flatSaw = sawtoothSeries(3000, 10, 600, 300, 0);
  auto shape = detectShape(flatSaw);
  CHECK(shape.kind == SeriesShape::Sawtooth);
  auto flat = testTrend(flatSaw, shape);
  CHECK(flat.testedAs == SeriesShape::Sawtooth);
  CHECK(flat.mk.pUp > 0.01);

  auto leakSaw = noisy(sawtoothSeries(3000, 10, 600, 300, 0.002), 1, 5);
  auto leak = testTrend(leakSaw, detectShape(leakSaw));
  CHECK(leak.mk.pUp < 1e-3);

  const double day = 86400;
  auto cycle = noisy(
      sampled(7 * 288, 300, [&](double t) { return 300 + 200 * std::sin(2 * std::numbers::pi * t / day); }), 10, 6);
  auto cshape = detectShape(cycle);
  REQUIRE(cshape.kind == SeriesShape::Seasonal);
  CHECK(cshape.period == doctest::Approx(day).epsilon(0.01));
  // The last day ends on a ramp; removing the season leaves no trend.
  std::vector<Point> ramp(cycle.begin(), cycle.end() - 72);
  CHECK(testTrend(ramp, detectShape(ramp)).mk.pUp > 0.01);
}
