// SPDX-License-Identifier: Apache-2.0
#include "controller/compile.h"

#include "policy/policy_entry_check.h"

namespace trimtab {

namespace {

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// "unknown source kind 'promethues' (did you mean 'prometheus'?); known: ..."
std::string unknownKind(const char* what, const std::string& kind, const std::vector<std::string>& known) {
  std::string msg = std::string("unknown ") + what + " kind '" + kind + "'";
  std::string close = closestMatch(kind, known);
  if (!close.empty()) msg += " (did you mean '" + close + "'?)";
  return msg + "; known kinds: " + joinNames(known);
}

}  // namespace

CompiledConfig compileConfig(Config config, SelfSettings* self,
                             const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  CompiledConfig out;
  auto& sources = SourceRegistry::instance();
  for (auto& sc : config.sources) {
    const auto* factory = sources.find(sc.spec.kind);
    if (!factory) {
      sc.params.error("kind", unknownKind("source", sc.spec.kind, sources.names()));
      continue;
    }
    std::size_t before = diagnostics->items().size();
    auto built = (*factory)(sc.spec, sc.params);
    sc.params.finish();
    if (!built.ok()) {
      // Factories record located diagnostics and return their text; add the
      // error only when the factory recorded nothing itself.
      if (diagnostics->items().size() == before) sc.params.error("", built.error().message);
      continue;
    }
    out.sources.push_back(CompiledSource{sc.spec, std::move(built.value())});
  }

  auto& actuators = ActuatorRegistry::instance();
  for (auto& kc : config.knobs) {
    const auto* factory = actuators.find(kc.actuatorKind);
    if (!factory) {
      kc.actuatorParams.error("kind", unknownKind("actuator", kc.actuatorKind, actuators.names()));
      continue;
    }
    ActuatorContext context{kc.spec.name, self, kc.spec.min, kc.spec.max};
    std::size_t before = diagnostics->items().size();
    auto built = (*factory)(kc.actuatorParams, context);
    kc.actuatorParams.finish();
    if (!built.ok()) {
      if (diagnostics->items().size() == before) kc.actuatorParams.error("", built.error().message);
      continue;
    }
    out.knobs.push_back(CompiledKnob{kc.spec, kc.actuatorKind, std::move(built.value())});
  }

  PolicyEntryCheck entries(config.policyLimits);
  for (const auto& policy : config.policies) {
    // Located at the config's entry (its params are often the problem); the
    // message names the policy file and line itself.
    if (Status checked = entries.check(policy); !checked.ok())
      diagnostics->add(ConfigDiagnostic{config.file.empty() ? policy.file : config.file, policy.configLine,
                                        policy.configColumn, "policies[" + std::to_string(policy.order) + "]",
                                        checked.error().message});
  }
  out.config = std::move(config);
  return out;
}

}  // namespace trimtab
