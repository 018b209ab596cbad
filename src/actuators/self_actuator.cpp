// SPDX-License-Identifier: Apache-2.0
#include "actuators/self_actuator.h"

#include <cmath>

#include <fmt/format.h>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "self", SelfActuator::create);

Result<std::unique_ptr<Actuator>> SelfActuator::create(ConfigNode& params, const ActuatorContext& context) {
  std::size_t before = actuator_support::diagnosticCount(params);
  std::string source = params.requiredString("source").value_or("");
  // Sources are known by the time knobs are built live; `trimtab check` may
  // pass no SelfSettings, and then only the syntax is checked.
  if (!source.empty() && context.self && !context.self->sourceInterval(source))
    params.error("source", "no source named '" + source + "'");
  // A value outside the scrape interval's range would fail every apply:
  // say so when the config is read.
  const bool boundsKnown = !(context.knobMin == 0 && context.knobMax == 0);  // both 0: unknown (unit tests)
  if (boundsKnown && (context.knobMin < kMinSourceInterval || context.knobMax > kMaxSourceInterval))
    params.error("", fmt::format("knob '{}' ranges over [{}, {}] s; a scrape interval must be within [{}, {}] s",
                                 context.knob, actuator_support::formatValue(context.knobMin),
                                 actuator_support::formatValue(context.knobMax),
                                 actuator_support::formatValue(kMinSourceInterval),
                                 actuator_support::formatValue(kMaxSourceInterval)));
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return std::unique_ptr<Actuator>(std::make_unique<SelfActuator>(std::move(source), context.self));
}

ActuationOutcome SelfActuator::apply(const ActuationRequest& request) {
  ActuationOutcome outcome;
  if (!self_) {
    outcome.detail = "self actuator has no access to trimtab's settings";
    return outcome;
  }
  if (!std::isfinite(request.value) || request.value <= 0) {
    outcome.detail = fmt::format("refused scrape interval {} for source '{}': expected seconds > 0",
                                 request.value, source_);
    return outcome;
  }
  outcome.attempts = 1;
  if (Status status = self_->setSourceInterval(source_, request.value); !status) {
    outcome.detail = status.error().message;
    return outcome;
  }
  outcome.ok = true;
  auto now = self_->sourceInterval(source_);
  outcome.effective = now && *now == request.value;
  outcome.detail = fmt::format("source '{}' scrape interval {}s", source_,
                               actuator_support::formatValue(request.value));
  if (!outcome.effective) outcome.detail += ", not yet effective";
  return outcome;
}

}  // namespace trimtab
