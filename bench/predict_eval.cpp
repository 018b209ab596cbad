// SPDX-License-Identifier: Apache-2.0
// Replays the labelled traces of bench/traces/ and prints trimtab's
// exhaustion alarm side by side with Prometheus' predict_linear rule (the
// table of bench/RESULTS.md). The same replay runs as the CTest test
// test_predict_eval, which asserts the targets.
//
//   predict_eval [traces-dir] [--probability P] [--window SECONDS]
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "predict/eval/replay.h"

int main(int argc, char** argv) {
  std::string dir = TRIMTAB_SOURCE_DIR "/bench/traces";
  trimtab::EvalConfig config;
  std::string dump;  // trace name whose steps are printed
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--probability" && i + 1 < argc) {
      config.probability = std::atof(argv[++i]);
    } else if (a == "--window" && i + 1 < argc) {
      config.trimtabWindow = std::atof(argv[++i]);
    } else if (a == "--alpha" && i + 1 < argc) {
      config.alpha = std::atof(argv[++i]);
    } else if (a == "--dump" && i + 1 < argc) {
      dump = argv[++i];
      config.keepSteps = true;
    } else if (!a.empty() && a[0] != '-') {
      dir = a;
    } else {
      std::fprintf(stderr, "usage: %s [traces-dir] [--probability P] [--window SECONDS] [--alpha A] [--dump TRACE]\n",
                   argv[0]);
      return 2;
    }
  }
  std::vector<trimtab::TraceResult> results;
  for (const std::string& file : trimtab::traceFiles(dir)) {
    auto trace = trimtab::loadTrace(file);
    if (!trace.ok()) {
      std::fprintf(stderr, "%s\n", trace.error().message.c_str());
      return 1;
    }
    results.push_back(trimtab::replayTrace(*trace, config));
    if (results.back().trace.name == dump) {
      std::printf(
          "t,value,baseline_alarm,baseline_predicted,trimtab_alarm,status,probability,eta,low,high,p_value,model,"
          "shape\n");
      for (const auto& s : results.back().steps) {
        std::printf("%.0f,%.2f,%d,%.1f,%d,%s,%.3f,%.0f,%.0f,%.0f,%.2g,%s,%s\n", s.t, s.value, s.baselineAlarm,
                    s.baselinePredicted, s.trimtabAlarm, std::string(trimtab::etaStatusName(s.answer.status)).c_str(),
                    s.answer.probability, s.answer.seconds, s.answer.low, s.answer.high, s.answer.pValue,
                    s.answer.model.c_str(), s.answer.shape.c_str());
      }
    }
  }
  if (results.empty()) {
    std::fprintf(stderr, "no traces in %s\n", dir.c_str());
    return 1;
  }
  std::fputs(trimtab::resultsTable(results).c_str(), stdout);
  return 0;
}
