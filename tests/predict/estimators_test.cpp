// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <cmath>
#include <numbers>

#include "predict/estimator.h"
#include "predict/ewls_estimator.h"
#include "predict/holt_estimator.h"
#include "predict/holt_winters_estimator.h"
#include "predict/lower_envelope_estimator.h"
#include "predict/ols_estimator.h"
#include "predict/quadratic_estimator.h"
#include "predict/segmented_estimator.h"
#include "predict/theil_sen_estimator.h"
#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::noisy;
using trimtab::testing::sampled;
using trimtab::testing::sawtoothSeries;

namespace {
SeriesView view(const std::vector<Point>& pts) { return SeriesView{pts}; }
}  // namespace

TEST_CASE("every estimator registers itself by name") {
  for (const char* name :
       {"ols", "ewls", "quadratic", "theil_sen", "lower_envelope", "holt", "holt_winters", "segmented"}) {
    auto e = makeEstimator(name);
    REQUIRE_MESSAGE(e, name);
    CHECK(e->name() == name);
  }
  CHECK_FALSE(makeEstimator("no_such_model"));
}

TEST_CASE("line estimators recover an exact line") {
  auto pts = sampled(
      100, 15, [](double t) { return 200 + 0.5 * t; }, 1e9);
  for (const char* name : {"ols", "ewls", "theil_sen", "segmented", "quadratic"}) {
    auto e = makeEstimator(name);
    REQUIRE(e->fit(view(pts)).ok());
    Seconds later = pts.back().t + 3600;
    CHECK_MESSAGE(e->slope(later) == doctest::Approx(0.5).epsilon(1e-6), name);
    CHECK_MESSAGE(e->at(later).mean == doctest::Approx(200 + 0.5 * later).epsilon(1e-9), name);
    CHECK_MESSAGE(e->at(later).se < 1e-3, name);
  }
}

TEST_CASE("quadratic recovers an exact parabola") {
  auto pts = sampled(80, 60, [](double t) { return 5 + 0.01 * t + 2e-6 * t * t; });
  QuadraticEstimator q;
  REQUIRE(q.fit(view(pts)).ok());
  double t = pts.back().t + 1800;
  CHECK(q.at(t).mean == doctest::Approx(5 + 0.01 * t + 2e-6 * t * t).epsilon(1e-9));
  CHECK(q.slope(t) == doctest::Approx(0.01 + 4e-6 * t).epsilon(1e-9));
}

TEST_CASE("Theil-Sen ignores a minority of outliers; least squares does not") {
  auto pts = noisy(sampled(200, 10, [](double t) { return 50 + 0.2 * t; }), 0.5, 5);
  for (std::size_t i = 150; i < 200; i += 10) pts[i].v += 5000;  // 5 huge outliers near the end
  TheilSenEstimator ts;
  OlsEstimator ols;
  REQUIRE(ts.fit(view(pts)).ok());
  REQUIRE(ols.fit(view(pts)).ok());
  CHECK(ts.slope(0) == doctest::Approx(0.2).epsilon(0.01));
  CHECK(std::abs(ols.slope(0) - 0.2) > 0.05);
  CHECK(ts.slopeSe() > 0);
  CHECK(ts.slopeSe() < 0.01);
}

TEST_CASE("Theil-Sen bounds its cost on long windows, deterministically") {
  auto pts = noisy(sampled(20000, 1, [](double t) { return t * 1e-3; }), 1, 9);
  TheilSenEstimator a, b;
  REQUIRE(a.fit(view(pts)).ok());
  REQUIRE(b.fit(view(pts)).ok());
  CHECK(a.slope(0) == b.slope(0));
  CHECK(a.slope(0) == doctest::Approx(1e-3).epsilon(0.05));
}

TEST_CASE("EWLS follows a trend that changed; OLS lags") {
  auto pts = sampled(400, 60, [](double t) { return t < 12000 ? 100.0 : 100 + 0.01 * (t - 12000); });
  EstimatorOptions o;
  o.halfLife = 1800;
  EwlsEstimator ewls(o);
  OlsEstimator ols;
  REQUIRE(ewls.fit(view(pts)).ok());
  REQUIRE(ols.fit(view(pts)).ok());
  CHECK(ewls.halfLife() == 1800);
  CHECK(std::abs(ewls.slope(0) - 0.01) < std::abs(ols.slope(0) - 0.01));
  CHECK(ewls.slope(0) == doctest::Approx(0.01).epsilon(0.05));
}

TEST_CASE("segmented finds the breakpoint of a leak that started mid-window") {
  auto pts = noisy(sampled(600, 30, [](double t) { return t < 6000 ? 500.0 : 500 + 0.02 * (t - 6000); }), 1, 4);
  SegmentedEstimator s;
  REQUIRE(s.fit(view(pts)).ok());
  CHECK(s.breakpoint() == doctest::Approx(6000).epsilon(0.05));
  CHECK(s.slope(0) == doctest::Approx(0.02).epsilon(0.02));
  // No change: no split.
  auto line = noisy(sampled(600, 30, [](double t) { return 3 * t; }), 1, 4);
  SegmentedEstimator one;
  REQUIRE(one.fit(view(line)).ok());
  CHECK(one.breakpoint() == line.front().t);
}

TEST_CASE("lower envelope: a flat floor is no leak, a rising floor is") {
  auto flat = sawtoothSeries(3000, 10, 600, 300, 0);
  LowerEnvelopeEstimator a;
  REQUIRE(a.fit(view(flat)).ok());
  CHECK(std::abs(a.slope(0)) < 1e-4);
  CHECK(a.floors().size() >= 40);
  // Peaks reach about the amplitude above the floor; the mean sits between.
  CHECK(a.at(flat.back().t).mean + a.residuals().excursion() == doctest::Approx(100 + 300).epsilon(0.03));

  auto leak = sawtoothSeries(3000, 10, 600, 300, 0.01);
  LowerEnvelopeEstimator b;
  REQUIRE(b.fit(view(leak)).ok());
  CHECK(b.slope(0) == doctest::Approx(0.01).epsilon(0.02));
  CHECK(b.floorLine().slope == doctest::Approx(0.01).epsilon(0.02));

  LowerEnvelopeEstimator c;
  CHECK_FALSE(c.fit(view(sampled(500, 1, [](double t) { return t; }))).ok());  // no sawtooth
}

TEST_CASE("Holt tracks a line, on irregular samples") {
  std::vector<Point> pts;
  for (int i = 0; i < 300; ++i) pts.push_back({i * 10.0 + (i % 3), 7 + 0.3 * (i * 10.0 + (i % 3))});
  EstimatorOptions o;
  o.horizon = 600;
  HoltEstimator h(o);
  REQUIRE(h.fit(view(pts)).ok());
  CHECK(h.slope(0) == doctest::Approx(0.3).epsilon(0.02));
  double t = pts.back().t + 600;
  CHECK(h.at(t).mean == doctest::Approx(7 + 0.3 * t).epsilon(0.01));
}

TEST_CASE("Holt-Winters finds the season of a pure seasonal series and forecasts it") {
  const double day = 86400, step = 600;
  auto pts = sampled(4 * 144, step, [&](double t) { return 100 + 30 * std::sin(2 * std::numbers::pi * t / day); });
  EstimatorOptions o;
  o.horizon = 4 * 3600;
  HoltWintersEstimator hw(o);
  REQUIRE(hw.fit(view(pts)).ok());
  CHECK(hw.period() == doctest::Approx(day));
  for (double ahead : {3600.0, 4 * 3600.0, 12 * 3600.0}) {
    double t = pts.back().t + ahead;
    CHECK(hw.at(t).mean == doctest::Approx(100 + 30 * std::sin(2 * std::numbers::pi * t / day)).epsilon(0.02));
  }
  CHECK(std::abs(hw.slope(0)) < 1e-4);

  HoltWintersEstimator none(o);
  CHECK_FALSE(none.fit(view(noisy(sampled(500, 60, [](double) { return 5.0; }), 1, 2))).ok());
}

TEST_CASE("estimators refuse too few points with an error, never NaN") {
  std::vector<Point> two = {{0, 1}, {1, 2}};
  for (const auto& name : estimatorNames()) {
    auto e = makeEstimator(name);
    auto st = e->fit(view(two));
    CHECK_MESSAGE(!st.ok(), name);
    if (!st.ok()) CHECK_FALSE(st.error().message.empty());
  }
}

TEST_CASE("shape preferences: shape models only for their shape, line models everywhere") {
  CHECK(makeEstimator("lower_envelope")->preference(SeriesShape::Plain) == Estimator::kUnsuited);
  CHECK(makeEstimator("lower_envelope")->preference(SeriesShape::Sawtooth) == 0);
  CHECK(makeEstimator("holt_winters")->preference(SeriesShape::Seasonal) == 0);
  CHECK(makeEstimator("ols")->preference(SeriesShape::Sawtooth) != Estimator::kUnsuited);
  CHECK(makeEstimator("holt")->preference(SeriesShape::Sawtooth) == Estimator::kUnsuited);
}
