// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "common/clock.h"
#include "common/config_node.h"
#include "common/registry.h"
#include "common/result.h"

namespace trimtab {

// One change the governor decided, for one knob.
struct ActuationRequest {
  std::string knob;
  double value = 0;
  double previous = 0;
  std::string reason;
  Seconds time = 0;
};

// How an actuation ended. `ok` means the target accepted the change;
// `effective` that it was verified to have taken effect (DESIGN.md: an
// actuator's job ends when the change has taken effect). An actuator that
// cannot verify reports effective = ok.
struct ActuationOutcome {
  bool ok = false;
  bool effective = false;
  std::string detail;  // error message, or e.g. "applied, not yet effective"
  int attempts = 0;
  Seconds latency = 0;
};

// The range of a source's scrape interval, configured or set by the `self`
// actuator: below it a scrape loop is a busy loop.
inline constexpr Seconds kMinSourceInterval = 0.05;
inline constexpr Seconds kMaxSourceInterval = 3600;

// Lets the `self` actuator change trimtab's own settings. Implemented by the
// controller; thread-safe (called from worker threads).
class SelfSettings {
 public:
  virtual ~SelfSettings() = default;
  virtual Status setSourceInterval(const std::string& source, Seconds interval) = 0;
  virtual std::optional<Seconds> sourceInterval(const std::string& source) const = 0;
};

// Everything an actuator factory may need from its surroundings.
struct ActuatorContext {
  std::string knob;                  // the knob this actuator serves
  SelfSettings* self = nullptr;      // for the `self` actuator; may be null in tests
  // The knob's bounds, for factories that can tell a value will be refused
  // (both 0: unknown, as in unit tests that build an actuator alone).
  double knobMin = 0;
  double knobMax = 0;
};

// A knob output.
//
// Contract:
// - apply() may block; the live loop calls it on a worker thread, never on the
//   tick, one call at a time per actuator. It returns within the actuator's
//   own timeout, retries included.
// - apply() must not throw; failures are ActuationOutcome{ok = false}.
// - Factories read settings only: no I/O (so `trimtab check` can build every
//   actuator without reaching servers).
class Actuator {
 public:
  virtual ~Actuator() = default;
  virtual ActuationOutcome apply(const ActuationRequest& request) = 0;
  // True when the target holds the value as a runtime setting that a server
  // restart loses (CONFIG SET, pgbouncer's SET, a hash without persistence)
  // and applying the same value again is harmless. The controller then
  // applies the knob's value again when a source comes back after being down.
  // False for actions (a purge, a vacuum: applying again acts again), for
  // settings that persist, and for targets whose semantics trimtab cannot know.
  virtual bool losesSettingOnRestart() const { return false; }
};

using ActuatorFactory = Result<std::unique_ptr<Actuator>>(ConfigNode& params,
                                                          const ActuatorContext& context);
struct ActuatorRegistryTag {};
using ActuatorRegistry = Registry<ActuatorRegistryTag, ActuatorFactory>;

}  // namespace trimtab
