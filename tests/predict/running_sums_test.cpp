// SPDX-License-Identifier: Apache-2.0
#include "predict/running_sums.h"

#include <doctest/doctest.h>

#include "predict_test_util.h"

using namespace trimtab;
using trimtab::testing::noisy;
using trimtab::testing::sampled;

TEST_CASE("LinearSums recovers an exact line and its standard error is zero") {
  auto pts = sampled(
      50, 10, [](double t) { return 3 + 0.25 * t; }, 1.7e9);
  LinearSums s;
  s.rebuild(pts);
  auto f = s.fit();
  REQUIRE(f);
  CHECK(f->slope == doctest::Approx(0.25).epsilon(1e-9));
  CHECK(f->valueAt(1.7e9 + 1000) == doctest::Approx(3 + 0.25 * (1.7e9 + 1000)).epsilon(1e-12));
  CHECK(f->sigma2 == doctest::Approx(0).epsilon(1e-6));
  CHECK(f->seAt(1.7e9 + 5000) < 1e-3);
}

TEST_CASE("LinearSums sliding add/remove matches a rebuild") {
  auto pts = noisy(sampled(400, 1, [](double t) { return 1e9 + 1000 * t; }), 5000, 7);
  LinearSums sliding, fresh;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    sliding.add(pts[i]);
    if (i >= 100) sliding.remove(pts[i - 100]);
  }
  fresh.rebuild(std::span<const Point>(pts).subspan(300));
  CHECK(sliding.count() == 100);
  auto a = sliding.fit(), b = fresh.fit();
  REQUIRE(a);
  REQUIRE(b);
  CHECK(a->slope == doctest::Approx(b->slope).epsilon(1e-6));
  CHECK(a->valueAt(500) == doctest::Approx(b->valueAt(500)).epsilon(1e-9));
  CHECK(a->sigma2 == doctest::Approx(b->sigma2).epsilon(1e-4));
}

TEST_CASE("LinearSums needs two distinct times") {
  LinearSums s;
  CHECK_FALSE(s.fit());
  s.add({5, 1});
  s.add({5, 2});
  CHECK_FALSE(s.fit());
  s.add({6, 3});
  CHECK(s.fit());
}

TEST_CASE("ExpWeightedSums: exact line, weights halve per half-life, survives long runs") {
  auto pts = sampled(200, 60, [](double t) { return -4 + 0.01 * t; });
  ExpWeightedSums w(600);
  w.rebuild(pts);
  auto f = w.fit();
  REQUIRE(f);
  CHECK(f->slope == doctest::Approx(0.01).epsilon(1e-9));
  CHECK(f->valueAt(20000) == doctest::Approx(196).epsilon(1e-9));

  // Two levels: the recent one dominates the weighted mean as the half-life says.
  ExpWeightedSums two(100);
  two.add({0, 0});
  two.add({100, 1});
  two.add({100.5, 1});  // keep the time spread non-zero
  auto g = two.fit();
  REQUIRE(g);
  CHECK(g->yMean > 0.75);
  CHECK(g->n < 3);  // effective points below the count

  // The reference time moves forward over many half-lives without overflow.
  ExpWeightedSums longRun(10);
  for (int i = 0; i < 100000; ++i) {
    longRun.add({static_cast<double>(i), 2.0 * i});
    if (i >= 50) longRun.remove({static_cast<double>(i - 50), 2.0 * (i - 50)});
  }
  auto h = longRun.fit();
  REQUIRE(h);
  CHECK(std::isfinite(h->slope));
  CHECK(h->slope == doctest::Approx(2).epsilon(1e-6));
}
