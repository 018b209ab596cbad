// SPDX-License-Identifier: Apache-2.0
#include "predict/predict_service.h"

#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <numbers>

#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::noisy;
using trimtab::testing::sampled;
using trimtab::testing::sawtoothSeries;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

PredictOptions opts(Seconds window, Seconds horizon) {
  PredictOptions o;
  o.window = window;
  o.horizon = horizon;
  return o;
}

void checkFinite(const EtaAnswer& a) {
  CHECK(std::isfinite(a.probability));
  CHECK(std::isfinite(a.pValue));
  CHECK(std::isfinite(a.slope));
  CHECK(std::isfinite(a.asOf));
  CHECK_FALSE(std::isnan(a.seconds));
  CHECK_FALSE(std::isnan(a.low));
  CHECK_FALSE(std::isnan(a.high));
}
}  // namespace

TEST_CASE("eta of an exact linear leak is (limit - value) / slope") {
  PredictService svc;
  auto pts = sampled(360, 10, [](double t) { return 100 + 0.05 * t; });
  auto a = svc.eta("", pts, 900, opts(3600, 4 * 3600));
  REQUIRE(a.ok());
  CHECK(a->status == EtaStatus::Crossing);
  double expected = (900 - (100 + 0.05 * pts.back().t)) / 0.05;
  CHECK(a->seconds == doctest::Approx(expected).epsilon(0.01));
  CHECK(a->low <= a->seconds);
  CHECK(a->high >= a->seconds);
  CHECK(a->slope == doctest::Approx(0.05).epsilon(1e-3));
  CHECK(a->probability > 0.99);  // 12,410 s away, within the 4 h horizon
  CHECK(a->pValue < 1e-10);
  auto far = svc.eta("", pts, 1e6, opts(3600, 4 * 3600));
  REQUIRE(far.ok());
  CHECK(far->probability < 0.01);
}

TEST_CASE("eta says none without a significant upward trend, already above the limit, insufficient when empty") {
  PredictService svc;
  auto flat = noisy(sampled(500, 10, [](double) { return 100.0; }), 2, 1);
  auto none = svc.eta("", flat, 120, opts(7200, 3600));
  REQUIRE(none.ok());
  CHECK(none->status == EtaStatus::None);
  CHECK(none->probability == 0);
  CHECK(std::isinf(none->seconds));
  checkFinite(*none);

  auto above = svc.eta("", flat, 50, opts(7200, 3600));
  REQUIRE(above.ok());
  CHECK(above->status == EtaStatus::Already);
  CHECK(above->seconds == 0);

  // One newest sample jumping past the limit: the outlier filter waits for
  // the next to confirm it, but the sample is at the limit already.
  auto jump = flat;
  jump.push_back(Point{jump.back().t + 10, 250});
  auto jumped = svc.eta("jump", jump, 200, opts(7200, 3600));
  REQUIRE(jumped.ok());
  CHECK(jumped->status == EtaStatus::Already);
  CHECK(jumped->asOf == jump.back().t);
  CHECK(jumped->seconds == 0);

  auto empty = svc.eta("", std::vector<Point>{}, 50, opts(7200, 3600));
  REQUIRE(empty.ok());
  CHECK(empty->status == EtaStatus::Insufficient);
  CHECK(etaStatusName(empty->status) == "insufficient");
}

TEST_CASE("a sawtooth with a flat floor is no leak; with a rising floor it is") {
  PredictService svc;
  auto flat = sawtoothSeries(4000, 10, 600, 300, 0);
  auto a = svc.eta("", flat, 450, opts(86400, 4 * 3600));
  REQUIRE(a.ok());
  CHECK(a->shape == "sawtooth");
  CHECK(a->status == EtaStatus::None);

  auto leak = sawtoothSeries(4000, 10, 600, 300, 0.005);
  auto b = svc.eta("", leak, 700, opts(86400, 4 * 3600));
  REQUIRE(b.ok());
  CHECK(b->shape == "sawtooth");
  REQUIRE(b->status == EtaStatus::Crossing);
  // Peaks are floor + 300: they reach 700 when the floor reaches 400.
  double floorNow = 100 + 0.005 * leak.back().t;
  CHECK(b->seconds == doctest::Approx((400 - floorNow) / 0.005).epsilon(0.1));
}

TEST_CASE("robust to NaN, gaps, duplicate times, outliers and counter resets: finite answers") {
  PredictService svc;
  auto pts = noisy(sampled(2000, 5, [](double t) { return 1000 + 0.1 * t; }), 3, 12);
  for (std::size_t i = 0; i < pts.size(); i += 97) pts[i].v = kNaN;
  for (std::size_t i = 50; i < pts.size(); i += 211) pts[i].v *= 1000;  // outliers
  pts.erase(pts.begin() + 600, pts.begin() + 900);                      // a gap
  pts[1000].t = pts[999].t;                                             // a duplicate time
  auto a = svc.eta("", pts, 3000, opts(1e5, 7200));
  REQUIRE(a.ok());
  checkFinite(*a);
  CHECK(a->status == EtaStatus::Crossing);
  CHECK(a->slope == doctest::Approx(0.1).epsilon(0.05));

  // A counter with two resets: trend is the counter's rate, not a fall.
  std::vector<Point> counter;
  double value = 0;
  for (int i = 0; i < 600; ++i) {
    value += 4;
    if (i == 200 || i == 400) value = 2;
    counter.push_back({i * 15.0, value});
  }
  PredictOptions o = opts(1e5, 3600);
  o.counter = true;
  auto t = svc.trend("", counter, o);
  REQUIRE(t.ok());
  REQUIRE(t->enoughData);
  CHECK(t->slope == doctest::Approx(4.0 / 15).epsilon(0.02));
  CHECK(t->significant);
  auto f = svc.forecast("", counter, 600, o);
  REQUIRE(f.ok());
  CHECK(std::isfinite(f->value));
  CHECK(f->low <= f->value);
  CHECK(f->high >= f->value);
}

TEST_CASE("bad arguments are errors that say what is wrong") {
  PredictService svc;
  auto pts = sampled(100, 1, [](double t) { return t; });
  CHECK_FALSE(svc.eta("", pts, kNaN).ok());
  CHECK_FALSE(svc.eta("", pts, 1, opts(0, 10)).ok());
  CHECK_FALSE(svc.eta("", pts, 1, opts(10, -1)).ok());
  PredictOptions o;
  o.model = "crystal_ball";
  auto r = svc.trend("", pts, o);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("crystal_ball") != std::string::npos);
  CHECK(r.error().message.find("ols") != std::string::npos);
  o.model.clear();
  o.alpha = 2;
  CHECK_FALSE(svc.trend("", pts, o).ok());
  CHECK_FALSE(svc.forecast("", pts, 0).ok());
}

TEST_CASE("a forecast that would overflow is an error, not inf or NaN") {
  PredictService svc;
  auto huge = noisy(sampled(500, 10, [](double t) { return 1e300 + 1e297 * t; }), 1e299, 5);
  auto far = svc.forecast("huge", huge, 1e300, opts(7200, 3600));
  REQUIRE_FALSE(far.ok());
  CHECK(far.error().message.find("overflows") != std::string::npos);
  auto ordinary = svc.forecast("ok", sampled(500, 10, [](double t) { return 5 + 0.01 * t; }), 600, opts(7200, 600));
  REQUIRE(ordinary.ok());
  CHECK(std::isfinite(ordinary->low));
  CHECK(std::isfinite(ordinary->high));
}

TEST_CASE("a forced model answers; one that does not apply falls back to ols") {
  PredictService svc;
  auto pts = noisy(sampled(500, 10, [](double t) { return 5 + 0.01 * t; }), 0.1, 3);
  PredictOptions o = opts(1e5, 3600);
  o.model = "theil_sen";
  auto a = svc.trend("k", pts, o);
  REQUIRE(a.ok());
  CHECK(a->model == "theil_sen");
  o.model = "holt_winters";  // no season in a line
  auto b = svc.trend("k", pts, o);
  REQUIRE(b.ok());
  CHECK(b->model == "ols");
  CHECK(svc.stats().fallbacks >= 1);
  CHECK(PredictService::models().size() >= 8);
}

TEST_CASE("keyed calls are incremental and agree with a fresh computation") {
  PredictLimits limits;
  PredictService cached(limits), fresh(limits);
  auto pts = noisy(sampled(3000, 1, [](double t) { return 500 + 0.02 * t; }), 1, 21);
  PredictOptions o = opts(1800, 3600);
  Result<EtaAnswer> last = makeError("none");
  for (std::size_t end = 1000; end <= pts.size(); ++end) {
    std::size_t from = 0;
    while (pts[from].t < pts[end - 1].t - o.window) ++from;
    last = cached.eta("mem", std::span<const Point>(pts).subspan(from, end - from), 600, o);
    REQUIRE(last.ok());
  }
  CHECK(cached.stats().refreshes > cached.stats().fits);  // most ticks were O(1) updates
  CHECK(cached.stats().selections < 20);                  // the backtest runs at a bounded rate
  std::size_t from = 0;
  while (pts[from].t < pts.back().t - o.window) ++from;
  auto once = fresh.eta("", std::span<const Point>(pts).subspan(from), 600, o);
  REQUIRE(once.ok());
  REQUIRE(last->status == EtaStatus::Crossing);
  REQUIRE(once->status == EtaStatus::Crossing);
  CHECK(last->seconds == doctest::Approx(once->seconds).epsilon(0.05));
  CHECK(last->slope == doctest::Approx(once->slope).epsilon(0.05));
}

TEST_CASE("the series cache is bounded") {
  PredictLimits limits;
  limits.maxSeries = 3;
  PredictService svc(limits);
  auto pts = sampled(50, 1, [](double t) { return t; });
  for (int i = 0; i < 10; ++i) REQUIRE(svc.trend("s" + std::to_string(i), pts).ok());
  CHECK(svc.cachedSeries() == 3);
  CHECK(svc.stats().evictions == 7);
}

TEST_CASE("forecast follows a daily cycle") {
  PredictService svc;
  const double day = 86400;
  auto f = [&](double t) { return 300 + 200 * std::sin(2 * std::numbers::pi * t / day); };
  auto pts = noisy(sampled(5 * 288, 300, f), 5, 2);
  auto a = svc.forecast("load", pts, 6 * 3600, opts(7 * day, 6 * 3600));
  REQUIRE(a.ok());
  REQUIRE(a->enoughData);
  CHECK(a->model == "holt_winters");
  CHECK(a->value == doctest::Approx(f(a->at)).epsilon(0.05));
  CHECK(a->low < a->value);
  CHECK(a->high > a->value);
  CHECK(a->high - a->low < 100);
}
