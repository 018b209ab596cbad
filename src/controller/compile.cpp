// SPDX-License-Identifier: Apache-2.0
#include "controller/compile.h"

#include <tuple>

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
    // Located at the config's entry, or at the value of the first param the
    // message names ("params.NAME: ..."); the message names the policy file
    // and line itself.
    Status checked = entries.check(policy);
    if (checked.ok()) continue;
    const std::string& message = checked.error().message;
    int line = policy.configLine, column = policy.configColumn;
    std::string field = "policies[" + std::to_string(policy.order) + "]";
    if (auto at = message.find("params."); at != std::string::npos) {
      const std::size_t start = at + 7;
      const std::string name = message.substr(start, message.find_first_of(":.", start) - start);
      if (auto it = policy.paramLocations.find(name); it != policy.paramLocations.end() && it->second.first > 0) {
        std::tie(line, column) = it->second;
        field += ".params." + name;
      }
    }
    diagnostics->add(ConfigDiagnostic{config.file.empty() ? policy.file : config.file, line, column, field, message});
  }
  out.config = std::move(config);
  return out;
}

}  // namespace trimtab
