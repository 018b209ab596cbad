// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "common/clock.h"

namespace trimtab {

// A named, typed, bounded setting that an actuator can change. Policies
// propose values; the governor decides within these bounds.
struct KnobSpec {
  std::string name;
  bool integer = true;            // integer knobs are rounded to whole numbers
  double min = 0;
  double max = 0;
  double baseline = 0;            // the value before trimtab touched it
  double maxStep = 0;             // 0: unlimited; largest |change| per decision
  Seconds cooldown = 0;           // minimum time between two changes
  double deadband = 0;            // ignore |change| < deadband
  int maxChangesPerHour = 0;      // 0: unlimited
  bool dryRun = false;            // record decisions, do not apply (also global mode)
  bool restoreOnExit = false;     // apply `baseline` when trimtab stops
  std::string unit;               // for display: "connections", "s", ...
};

// What a knob looks like to a policy: spec plus its current value.
struct KnobState {
  KnobSpec spec;
  double current = 0;            // last applied (or recovered, or baseline)
  Seconds lastChange = -1;       // -1: never changed by trimtab
  bool pending = false;          // an actuation is in flight
};

}  // namespace trimtab
