// SPDX-License-Identifier: Apache-2.0
// Scores on hand-made timelines: every number below is worked out by hand.
#include <doctest/doctest.h>

#include "sim/driver/scores.h"

using namespace trimtab::sim;

namespace {

StepObservation step(double t, double p95, bool up = true) {
  StepObservation s;
  s.time = t;
  s.dt = 1;
  s.requests = 100;
  s.errors = up ? 0 : 100;
  s.latencyP95 = p95;
  s.up = up;
  s.rssBytes = 1024.0 * 1024 * 1024;  // 1 GiB
  s.connectionsOpen = t < 5 ? 10 : 20;
  s.cachePresent = true;
  s.hitRatio = 0.5;
  s.monitoringCpuFraction = 0.01;
  return s;
}

}  // namespace

TEST_CASE("SLO seconds, downtime, means and peaks of a hand-made timeline") {
  ScoreAccumulator acc(0.2, 600);
  // 10 steps: p95 over the 0.2 s target in 3 of them (0.3, 0.25, 0.21), one
  // exactly at it (not a violation), two down.
  const double p95[] = {0.1, 0.3, 0.2, 0.25, 0.1, 0.21, 0.1, 0.1, 0, 0};
  for (int i = 0; i < 10; ++i) acc.observe(step(i + 1, p95[i], i < 8));
  acc.countOomKill();
  acc.addStaleReads(7);
  Scores s = acc.finish();
  CHECK(s.simulatedSeconds == 10);
  CHECK(s.sloViolationSeconds == 3);
  CHECK(s.downtimeSeconds == 2);
  CHECK(s.oomKills == 1);
  CHECK(s.errors == 200);
  CHECK(s.timeouts == 0);
  CHECK(s.errorRatio == doctest::Approx(0.2));
  CHECK(s.latencyP95Max == doctest::Approx(0.3));
  CHECK(s.latencyP95Mean == doctest::Approx((0.1 + 0.3 + 0.2 + 0.25 + 0.1 + 0.21 + 0.1 + 0.1) / 8));
  CHECK(s.connectionsPeak == 20);
  CHECK(s.connectionsMean == doctest::Approx((4 * 10 + 6 * 20) / 10.0));  // t = 1..4 below 5
  CHECK(s.memoryGibHours == doctest::Approx(10.0 / 3600));
  CHECK(s.hitRatio == doctest::Approx(0.5));  // only the up steps count
  CHECK(s.staleReads == 7);
  CHECK(s.monitoringCpuSeconds == doctest::Approx(0.1));
  CHECK(s.monitoringOverhead == doctest::Approx(0.01));
}

TEST_CASE("flaps are direction reversals within the window") {
  ScoreAccumulator acc(1, 600);
  acc.knobChanged(0, "pool", 20, 25, false);    // up
  acc.knobChanged(100, "pool", 25, 30, false);  // up again: no flap
  acc.knobChanged(200, "pool", 30, 25, false);  // down 100 s after an up: flap
  acc.knobChanged(300, "pool", 25, 30, false);  // up 100 s after a down: flap
  acc.knobChanged(1000, "pool", 30, 20, false); // down, but 700 s later: no flap
  acc.knobChanged(1010, "ttl", 60, 30, false);  // another knob: its own history
  acc.knobChanged(1020, "gc", 0, 1, true);      // triggers never flap
  acc.knobChanged(1030, "gc", 1, 0, true);
  Scores s = acc.finish();
  CHECK(s.knobChanges == 8);
  CHECK(s.flaps == 2);
  CHECK(s.knobs["pool"].changes == 5);
  CHECK(s.knobs["pool"].flaps == 2);
  CHECK(s.knobs["ttl"].flaps == 0);
  CHECK(s.knobs["gc"].changes == 2);
  CHECK(s.knobs["gc"].flaps == 0);
}

TEST_CASE("means over seeds and the named score list") {
  Scores a, b;
  a.timeouts = 10;
  b.timeouts = 30;
  a.knobs["pool"].changes = 2;
  b.knobs["pool"].changes = 4;
  Scores m = meanScores({a, b});
  CHECK(m.timeouts == 20);
  CHECK(m.knobs["pool"].changes == 3);
  CHECK(meanScores({}).timeouts == 0);
  bool found = false;
  for (const auto& n : namedScores(m)) {
    if (std::string(n.key) == "timeouts") {
      found = true;
      CHECK(n.value == 20);
      CHECK(n.better == Better::Lower);
    }
  }
  CHECK(found);
}
