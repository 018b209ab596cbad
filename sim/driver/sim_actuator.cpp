// SPDX-License-Identifier: Apache-2.0
#include "sim_actuator.h"

namespace trimtab::sim {

ActuationOutcome SimActuator::apply(const ActuationRequest& request) {
  ActuationOutcome outcome;
  outcome.attempts = 1;
  Status status = stack_.setKnob(request.knob, request.value);
  outcome.ok = status.ok();
  outcome.effective = outcome.ok;
  if (!status.ok()) outcome.detail = status.error().message;
  return outcome;
}

}  // namespace trimtab::sim
