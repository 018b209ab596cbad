// SPDX-License-Identifier: Apache-2.0
#include "predict/mann_kendall.h"

#include <doctest/doctest.h>

#include "predict/residual_stats.h"
#include "predict_test_util.h"

using namespace trimtab;

TEST_CASE("Mann-Kendall on a small monotone series matches the closed form") {
  // S = 10, Var S = 5*4*15/18 = 50/3, Z = (10 - 1)/sqrt(50/3) = 2.20454,
  // two-sided p = 2 (1 - Phi(Z)) = 0.027486 (normal approximation).
  std::vector<double> x = {1, 2, 3, 4, 5};
  auto r = mannKendall(x);
  CHECK(r.s == 10);
  CHECK(r.varS == doctest::Approx(50.0 / 3));
  CHECK(r.z == doctest::Approx(2.2045407685));
  CHECK(r.pTwoSided == doctest::Approx(0.0274863361).epsilon(1e-7));
  CHECK(r.tau == doctest::Approx(1));
  auto down = mannKendall(std::vector<double>{5, 4, 3, 2, 1});
  CHECK(down.pDown == doctest::Approx(r.pUp));
  CHECK(down.pUp > 0.9);
}

TEST_CASE("Mann-Kendall ties correction") {
  // Ties {2,2} and {3,3,3}: Var S = [6*5*17 - (2*1*9 + 3*2*11)] / 18 = 71/3, S = 11,
  // Z = 10 / sqrt(71/3) = 2.05557, one-sided p = 0.0199122.
  std::vector<double> x = {1, 2, 2, 3, 3, 3};
  auto r = mannKendall(x);
  CHECK(r.s == 11);
  CHECK(r.varS == doctest::Approx(71.0 / 3));
  CHECK(r.pUp == doctest::Approx(0.0199121777).epsilon(1e-7));
  // Autocorrelation inflation makes the same evidence weaker.
  auto inflated = mannKendall(x, 4);
  CHECK(inflated.pUp > r.pUp);
}

TEST_CASE("Mann-Kendall: no evidence from constant or tiny inputs") {
  CHECK(mannKendall(std::vector<double>{3, 3, 3, 3}).pTwoSided == 1);
  CHECK(mannKendall(std::vector<double>{1, 2}).pUp == 1);
  CHECK(mannKendall(std::vector<double>{}).n == 0);
}

TEST_CASE("long windows are reduced deterministically to bucket medians") {
  auto pts = trimtab::testing::noisy(trimtab::testing::sampled(5000, 1, [](double t) { return t; }), 50, 1);
  auto a = trendSample(pts), b = trendSample(pts);
  CHECK(a.size() == kMaxMannKendallPoints);
  CHECK(a == b);
  auto r = mannKendall(a);
  CHECK(r.pUp < 1e-10);
}

TEST_CASE("AR(1) variance factor") {
  CHECK(ar1VarianceFactor(0, 100) == 1);
  CHECK(ar1VarianceFactor(-0.5, 100) == 1);
  // (1 + rho)/(1 - rho) for long series.
  CHECK(ar1VarianceFactor(0.5, 1e6) == doctest::Approx(3).epsilon(1e-4));
  CHECK(ar1VarianceFactor(0.99, 1e6) == ar1VarianceFactor(kMaxRho1, 1e6));
}

TEST_CASE("residual summaries end for any horizon, however small against the window") {
  // 120 residuals every 30 s at Unix time: a quarter of a 1e-6 s horizon is
  // below the spacing of doubles there, so stepping back by it never moved
  // (the loop ran for ever, in C++ where a policy's budget cannot stop it).
  std::vector<Point> r;
  for (int i = 0; i < 120; ++i) r.push_back(Point{1.7e9 + 30.0 * i, (i % 7) - 3.0});
  for (Seconds horizon : {1e-3, 1e-6, 1e-12}) {
    ResidualStats s = summarizeResiduals(r, horizon);
    CHECK(s.profiles.size() <= kMaxProfiles);
    CHECK(s.excursion() >= 0);
    CHECK(s.excursion() <= 3);
  }
  // An ordinary horizon keeps its stretches a quarter horizon apart.
  ResidualStats s = summarizeResiduals(r, 600);
  CHECK(s.profiles.size() == kMaxProfiles);
  CHECK(s.excursions[8] == 3);
}
