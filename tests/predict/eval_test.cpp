// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include "predict/eval/prometheus_baseline.h"
#include "predict/eval/trace.h"
#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::sampled;

TEST_CASE("predict_linear: intercept at the evaluation time, as Prometheus computes it") {
  auto pts = sampled(
      61, 60, [](double t) { return 10 + 0.5 * t; }, 1e9);
  Seconds at = pts.back().t + 30;  // evaluated between samples
  auto r = predictLinear(pts, at, 3600);
  REQUIRE(r.ok);
  CHECK(r.slope == doctest::Approx(0.5));
  CHECK(r.intercept == doctest::Approx(10 + 0.5 * at));
  CHECK(r.value == doctest::Approx(10 + 0.5 * (at + 3600)));
  auto flat = predictLinear(sampled(5, 1, [](double) { return 7.0; }), 100, 3600);
  CHECK(flat.slope == 0);
  CHECK(flat.value == 7);
  CHECK_FALSE(predictLinear(sampled(1, 1, [](double) { return 7.0; }), 100, 3600).ok);
}

TEST_CASE("range selection includes both ends (Prometheus 2.x)") {
  auto pts = sampled(10, 10, [](double t) { return t; });
  auto r = rangeSelect(pts, 50, 20);
  REQUIRE(r.size() == 3);
  CHECK(r.front().t == 30);
  CHECK(r.back().t == 50);
  CHECK(rangeSelect(pts, -100, 10).empty());
}

TEST_CASE("trace files: headers, rows, and errors with line numbers") {
  auto ok = parseTrace("# name: x\n# kind: leak\n# limit: 10\n# crosses_at: 2\n# horizon: 60\nt,v\n0,1\n1,5\n2,11\n",
                       "x.csv");
  REQUIRE(ok.ok());
  CHECK(ok->limit == 10);
  REQUIRE(ok->crossesAt);
  CHECK(*ok->crossesAt == 2);
  CHECK(ok->horizon == 60);
  CHECK(ok->window == 3600);
  CHECK(firstCrossing(ok->points, ok->limit) == 2);

  auto bad = parseTrace("# limit: 10\n# crosses_at: never\nt,v\n0,1\n1,oops\n", "bad.csv");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().message.find("bad.csv:5") != std::string::npos);
  auto order = parseTrace("# limit: 10\n# crosses_at: never\nt,v\n5,1\n1,2\n", "o.csv");
  REQUIRE_FALSE(order.ok());
  CHECK(order.error().message.find("increase") != std::string::npos);
  CHECK_FALSE(parseTrace("t,v\n0,1\n1,2\n", "nolimit.csv").ok());
  CHECK_FALSE(parseTrace("# limit: x\n", "l.csv").ok());
  CHECK_FALSE(parseTrace("garbage\n", "g.csv").ok());
  CHECK_FALSE(loadTrace("/nonexistent/trace.csv").ok());
}
