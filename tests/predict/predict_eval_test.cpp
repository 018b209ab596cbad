// SPDX-License-Identifier: Apache-2.0
// The prediction evaluation as a test: replays every committed trace of
// bench/traces/ and asserts the targets of issue #3 against the
// predict_linear baseline (the table itself is in bench/RESULTS.md, printed
// by bench/predict_eval).
#include <doctest/doctest.h>

#include <cmath>

#include "predict/eval/replay.h"

using namespace trimtab;

TEST_CASE("trimtab's alarm beats predict_linear on the committed traces") {
  std::vector<TraceResult> results;
  int synthetic = 0, recorded = 0;
  for (const std::string& file : traceFiles(TRIMTAB_SOURCE_DIR "/bench/traces")) {
    auto trace = loadTrace(file);
    REQUIRE_MESSAGE(trace.ok(), (trace.ok() ? "" : trace.error().message));
    (trace->source == "recorded" ? recorded : synthetic) += 1;
    results.push_back(replayTrace(*trace));
  }
  CHECK(synthetic >= 8);
  CHECK(recorded >= 4);

  int oursFalse = 0, baseFalse = 0;
  for (const TraceResult& r : results) {
    INFO("trace " << r.trace.name);
    // Each trace says whether and when it reaches its limit; the samples agree.
    CHECK(r.crossing.has_value() == r.trace.crossesAt.has_value());
    if (r.crossing && r.trace.crossesAt) CHECK(*r.crossing == doctest::Approx(*r.trace.crossesAt));
    if (r.crossing) {
      CHECK_FALSE(r.trimtab.missed);
      REQUIRE(r.trimtab.leadTime);
      if (r.baseline.leadTime) CHECK(*r.trimtab.leadTime >= *r.baseline.leadTime);
    }
    if (r.trace.kind == "sawtooth" || r.trace.kind == "diurnal") {
      oursFalse += r.trimtab.falseAlarms;
      baseFalse += r.baseline.falseAlarms;
    }
  }
  INFO("false alarms on sawtooth and diurnal traces: trimtab " << oursFalse << ", predict_linear " << baseFalse);
  CHECK(baseFalse > 0);  // the target is not vacuous
  CHECK(3 * oursFalse <= baseFalse);
}
