// SPDX-License-Identifier: Apache-2.0
#include "actuators/log_actuator.h"

#include <spdlog/spdlog.h>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "log", LogActuator::create);

Result<std::unique_ptr<Actuator>> LogActuator::create(ConfigNode& params, const ActuatorContext& context) {
  // No keys: finish() turns any key given into an "unknown key" diagnostic.
  std::size_t before = actuator_support::diagnosticCount(params);
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return std::unique_ptr<Actuator>(std::make_unique<LogActuator>(context.knob));
}

ActuationOutcome LogActuator::apply(const ActuationRequest& request) {
  spdlog::info("knob {}: {} -> {} ({})", knob_.empty() ? request.knob : knob_, request.previous,
               request.value, request.reason);
  return ActuationOutcome{true, true, "logged", 1, 0};
}

}  // namespace trimtab
