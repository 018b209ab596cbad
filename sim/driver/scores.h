// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"

namespace trimtab::sim {

// The ground truth of one model step, as scores see it (from SimWorld, not
// from scrapes: the controller's view is what is being judged).
struct StepObservation {
  Seconds time = 0;      // end of the step
  Seconds dt = 0;
  double requests = 0;   // arrivals in the step
  double errors = 0;     // timeouts + requests refused while down
  double latencyP95 = 0; // seconds, meaningful while up
  bool up = true;
  double rssBytes = 0;
  double connectionsOpen = 0;
  bool cachePresent = false;
  double hitRatio = 0;
  double monitoringCpuFraction = 0;  // scrape overhead, share of one core
};

struct KnobScore {
  double changes = 0;
  double flaps = 0;
};

// What one run scored. Sums are over the whole run; "mean" is time-weighted
// unless said otherwise.
struct Scores {
  double simulatedSeconds = 0;
  double requests = 0;
  double sloViolationSeconds = 0;   // up and p95 above the SLO target
  double latencyP95Mean = 0;        // time-weighted, while up
  double latencyP95Max = 0;
  double timeouts = 0;              // pool timeouts (errors while up)
  double errors = 0;                // timeouts + refused while down
  double errorRatio = 0;            // errors / requests
  double oomKills = 0;
  double downtimeSeconds = 0;
  double connectionsMean = 0;
  double connectionsPeak = 0;
  double memoryGibHours = 0;        // resident memory integrated over time
  double rssPeakBytes = 0;
  double hitRatio = 0;              // request-weighted
  double staleReads = 0;
  double knobChanges = 0;           // applied changes, all knobs
  double flaps = 0;                 // direction reversals within the flap window
  double monitoringCpuSeconds = 0;
  double monitoringOverhead = 0;    // mean share of one core
  std::map<std::string, KnobScore> knobs;
};

// Accumulates Scores step by step; O(1) per step and per change.
class ScoreAccumulator {
 public:
  ScoreAccumulator(Seconds sloLatencyP95, Seconds flapWindow) : slo_(sloLatencyP95), flapWindow_(flapWindow) {}

  void observe(const StepObservation& s);
  void countOomKill() { ++scores_.oomKills; }
  void addStaleReads(double n) { scores_.staleReads += n; }
  // An applied change of a knob (decision verdict Apply). A change whose
  // direction is opposite to the knob's previous change and that comes within
  // the flap window of it is a flap. Triggers (actions) have no direction.
  void knobChanged(Seconds time, const std::string& knob, double from, double to, bool trigger);
  // Declares a knob so that it appears in the scores with zero changes.
  void declareKnob(const std::string& knob) { scores_.knobs[knob]; }

  Scores finish() const;

 private:
  struct LastChange {
    Seconds time = 0;
    int direction = 0;
  };
  Seconds slo_;
  Seconds flapWindow_;
  Scores scores_;
  double upSeconds_ = 0, p95Seconds_ = 0, connectionSeconds_ = 0, byteSeconds_ = 0;
  double cacheRequests_ = 0, hitRequests_ = 0;
  std::map<std::string, LastChange> last_;
};

// How a score compares: for the summary table's "best" marks.
enum class Better { Lower, Higher, None };

struct NamedScore {
  const char* key;    // JSON key and CSV column: "slo_violation_seconds"
  const char* label;  // table row: "SLO violation (s)"
  double value;
  Better better;
};

// Every score in report order (per-knob scores follow as knob.<name>.changes
// and knob.<name>.flaps in the JSON only).
std::vector<NamedScore> namedScores(const Scores& s);

// Mean of each score over several runs (seeds); empty input gives zeros.
Scores meanScores(const std::vector<Scores>& runs);

}  // namespace trimtab::sim
