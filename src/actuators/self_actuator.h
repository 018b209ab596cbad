// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>

#include "actuators/actuator.h"

namespace trimtab {

// Changes trimtab's own settings. The knob's value is the scrape interval, in
// seconds, of the source named by `source` (the "metric interval" knob):
// apply() calls SelfSettings::setSourceInterval and verifies the change by
// reading it back. Values <= 0 (or not finite) are refused; so is an apply
// without a SelfSettings (context.self null).
class SelfActuator final : public Actuator {
 public:
  SelfActuator(std::string source, SelfSettings* self) : source_(std::move(source)), self_(self) {}
  // Params: source (required). When context.self is set, an unknown source
  // is a settings error.
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);
  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  std::string source_;
  SelfSettings* self_;
};

}  // namespace trimtab
