// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_entry_check.h"

namespace trimtab {

Status PolicyEntryCheck::check(const PolicySpec& spec) {
  std::string name;
  if (Status compiled = PolicyEngine::check(spec, limits_, &name); !compiled.ok()) return compiled;
  auto [taken, fresh] = names_.emplace(name, Taken{spec.file, spec.configLine});
  if (fresh) return Status::success();
  const std::string where =
      taken->second.configLine > 0 ? " (the entry at line " + std::to_string(taken->second.configLine) + ")" : "";
  return makeError("policy name '" + name + "' is already used by " + taken->second.file + where +
                   "; to run one file twice, give an entry its own name:");
}

}  // namespace trimtab
