// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <string>

#include "common/result.h"
#include "policy/policy_engine.h"

namespace trimtab {

// Checks the policy entries of one config before anything runs: each one
// compiles with its params (PolicyEngine::check), and no two share a name,
// which the engine would refuse only when it starts. `trimtab check`, the
// simulator's scenarios and its --policy files use it, so they say the same.
class PolicyEntryCheck {
 public:
  explicit PolicyEntryCheck(PolicyLimits limits) : limits_(limits) {}

  // The problem with `spec`, or success; its name then counts as taken.
  Status check(const PolicySpec& spec);

 private:
  struct Taken {
    std::string file;
    int configLine = 0;
  };
  PolicyLimits limits_;
  std::map<std::string, Taken> names_;
};

}  // namespace trimtab
