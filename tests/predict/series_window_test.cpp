// SPDX-License-Identifier: Apache-2.0
#include "predict/series_window.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>

#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::noisy;
using trimtab::testing::sampled;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

bool strictlyIncreasingFinite(std::span<const Point> pts) {
  for (std::size_t i = 0; i < pts.size(); ++i) {
    if (!std::isfinite(pts[i].t) || !std::isfinite(pts[i].v)) return false;
    if (i > 0 && !(pts[i].t > pts[i - 1].t)) return false;
  }
  return true;
}
}  // namespace

TEST_CASE("cleaning drops NaN and infinite samples and says so") {
  std::vector<Point> raw = {{0, 1}, {1, kNaN}, {kNaN, 5}, {2, kInf}, {3, 4}, {4, 5}};
  CleaningCounts c;
  auto pts = cleanPoints(raw, {}, &c);
  CHECK(c.nonFinite == 3);
  REQUIRE(pts.size() == 3);
  CHECK(strictlyIncreasingFinite(pts));
  CHECK(pts[1].t == 3);
}

TEST_CASE("cleaning averages duplicate timestamps and sorts unsorted input") {
  std::vector<Point> raw = {{2, 10}, {0, 1}, {1, 2}, {1, 4}, {3, 7}};
  CleaningCounts c;
  auto pts = cleanPoints(raw, {}, &c);
  CHECK(c.duplicates == 1);
  REQUIRE(pts.size() == 4);
  CHECK(pts[1].t == 1);
  CHECK(pts[1].v == doctest::Approx(3));
  CHECK(strictlyIncreasingFinite(pts));
}

TEST_CASE("only samples after the newest one seen are new; late ones are ignored") {
  SeriesWindow w(1e9, {}, 60);
  std::vector<Point> first = {{0, 1}, {1, 2}, {2, 3}};
  CHECK(w.append(first) == 3);
  std::vector<Point> later = {{0, 1}, {1, 2}, {1.5, 9}, {2, 3}, {4, 5}, {3, 4}};  // 1.5 late, 3 and 4 swapped
  CHECK(w.append(later) == 2);
  CHECK(strictlyIncreasingFinite(w.points()));
  REQUIRE(w.points().size() == 5);
  CHECK(w.points()[3].t == 3);
  CHECK(w.append(later) == 0);  // the same window again: nothing new
}

TEST_CASE("a spike is left out, a step is kept") {
  auto line = noisy(sampled(60, 1, [](double t) { return 100 + t; }), 0.5, 3);
  line[30].v = 1e6;
  CleaningCounts c;
  auto pts = cleanPoints(line, {}, &c);
  CHECK(c.spikes == 1);
  for (const Point& p : pts) CHECK(p.v < 1000);

  auto step = sampled(60, 1, [](double t) { return t < 30 ? 10.0 : 50.0; });
  CleaningCounts s;
  auto kept = cleanPoints(step, {}, &s);
  CHECK(s.spikes == 0);
  CHECK(kept.size() == 60);
}

TEST_CASE("counter resets are offset like Prometheus' rate()") {
  std::vector<Point> raw = {{0, 10}, {1, 20}, {2, 30}, {3, 5}, {4, 15}};
  CleaningOptions o;
  o.counter = true;
  CleaningCounts c;
  auto pts = cleanPoints(raw, o, &c);
  CHECK(c.counterResets == 1);
  REQUIRE(pts.size() == 5);
  CHECK(pts[3].v == doctest::Approx(35));
  CHECK(pts[4].v == doctest::Approx(45));
}

TEST_CASE("a gauge that drops to almost nothing after a steady rise restarted: history before is dropped") {
  auto raw = sampled(40, 1, [](double t) { return t < 20 ? 1000 + 50 * t : 10 + t; });
  CleaningCounts c;
  auto pts = cleanPoints(raw, {}, &c);
  CHECK(c.restarts == 1);
  REQUIRE_FALSE(pts.empty());
  CHECK(pts.front().t >= 20);
  // A garbage-collector drop (to 60%) is not a restart.
  auto saw = trimtab::testing::sawtoothSeries(200, 1, 20, 100, 0);
  CleaningCounts sc;
  cleanPoints(saw, {}, &sc);
  CHECK(sc.restarts == 0);
}

TEST_CASE("incremental appends of a growing window equal one-shot cleaning") {
  auto raw = noisy(sampled(500, 2, [](double t) { return 50 + 0.1 * t; }), 1, 11);
  raw[100].v = kNaN;
  raw[200].v = 1e5;
  raw[300].t = raw[299].t;  // a duplicate
  SeriesWindow w(1e9, {}, 60);
  for (std::size_t end = 1; end <= raw.size(); end += 7) {
    w.append(std::span<const Point>(raw).first(end));
  }
  w.append(raw);
  auto once = cleanPoints(raw);
  auto inc = w.points();
  REQUIRE(inc.size() == once.size());
  for (std::size_t i = 0; i < once.size(); ++i) {
    CHECK(inc[i].t == once[i].t);
    CHECK(inc[i].v == doctest::Approx(once[i].v));
  }
}

TEST_CASE("the window keeps only its span, and the running sums follow it") {
  SeriesWindow w(100, {}, 30);
  auto raw = sampled(1000, 1, [](double t) { return 2 * t; });
  for (std::size_t end = 10; end <= raw.size(); end += 10) w.append(std::span<const Point>(raw).first(end));
  auto pts = w.points();
  CHECK(pts.back().t - pts.front().t <= 100);
  CHECK(w.linear().count() == pts.size());
  CHECK(w.weighted().count() == pts.size());
  auto f = w.linear().fit();
  REQUIRE(f);
  CHECK(f->slope == doctest::Approx(2).epsilon(1e-9));
}

TEST_CASE("garbage in, empty out: no crash") {
  CHECK(cleanPoints({}).empty());
  std::vector<Point> allNaN(10, Point{kNaN, kNaN});
  CHECK(cleanPoints(allNaN).empty());
  std::vector<Point> sameTime(10, Point{5, 1});
  CHECK(cleanPoints(sameTime).size() == 1);
}
