// SPDX-License-Identifier: Apache-2.0
#include "predict/ensemble.h"

#include <doctest/doctest.h>

#include "predict_test_util.h"

using namespace trimtab;

TEST_CASE("ensemble: the backtest's best few, weighted by inverse squared error") {
  ModelChoice choice;
  choice.backtested = true;
  choice.model = "ols";
  choice.scores = {{"ols", 1.0, 4}, {"theil_sen", 1.5, 4}, {"ewls", 10.0, 4}, {"quadratic", 2.0, 4}, {"holt", 3.0, 4}};
  ModelEnsemble e;
  e.choose(choice, {});
  REQUIRE(e.members().size() == kMaxEnsembleMembers);
  CHECK(e.members()[0].name == "ols");
  CHECK(e.members()[1].name == "theil_sen");
  CHECK(e.members()[2].name == "quadratic");  // ewls is more than 4x worse, holt is 4th
  double w0 = 1, w1 = 1 / 2.25, w2 = 1 / 4.0, total = w0 + w1 + w2;
  CHECK(e.members()[0].weight == doctest::Approx(w0 / total));
  CHECK(e.members()[1].weight == doctest::Approx(w1 / total));
  CHECK(e.leader() == "ols");

  auto pts = trimtab::testing::sampled(100, 10, [](double t) { return 2 + 0.1 * t; });
  CHECK(e.fit(SeriesView{pts}, "ols", {}) == 0);
  CHECK(e.slope(0) == doctest::Approx(0.1).epsilon(1e-6));
  CHECK(e.mean(2000) == doctest::Approx(202).epsilon(1e-6));
  CHECK(e.observationSd(2000) < 1e-3);
}

TEST_CASE("ensemble: a forced model alone; members that stop fitting drop out, ols stands in") {
  ModelEnsemble e;
  e.force("holt_winters", {});
  REQUIRE(e.members().size() == 1);
  CHECK(e.members()[0].weight == 1);
  auto line = trimtab::testing::sampled(100, 10, [](double t) { return t; });
  CHECK(e.fit(SeriesView{line}, "ols", {}) == 1);
  REQUIRE(e.members().size() == 1);
  CHECK(e.leader() == "ols");
}

TEST_CASE("weighted median") {
  CHECK(weightedMedian({{1, 1}, {2, 1}, {3, 1}}) == 2);
  CHECK(weightedMedian({{1, 0.6}, {100, 0.4}}) == 1);
  CHECK(std::isinf(weightedMedian({{1, 0.3}, {CrossingEstimate::kNever, 0.7}})));
  CHECK(std::isinf(weightedMedian({})));
}
