// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "actuators/actuator.h"

namespace trimtab {

// Records only: logs the change and reports it applied and effective (detail
// "logged"). For trying policies against a live service without touching it,
// beyond what dry-run records. No params.
class LogActuator final : public Actuator {
 public:
  explicit LogActuator(std::string knob) : knob_(std::move(knob)) {}
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);
  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  std::string knob_;
};

}  // namespace trimtab
