// SPDX-License-Identifier: Apache-2.0
#pragma once

#include "actuators/actuator.h"
#include "sim/models/model_stack.h"

namespace trimtab::sim {

// The simulated service as an actuator: applies a decision to the model that
// owns the knob (ModelStack::setKnob); the change takes effect at the next
// step. The model clamps out-of-range values; an unknown knob or a NaN fails.
// Verification is exact: effective = ok.
//
// Not thread-safe; apply() runs inline on the simulator's thread.
class SimActuator final : public Actuator {
 public:
  explicit SimActuator(ModelStack& stack) : stack_(stack) {}
  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  ModelStack& stack_;
};

}  // namespace trimtab::sim
