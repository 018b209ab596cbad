// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actuators/postgres_actuator_base.h"

namespace trimtab {

// `postgres_terminate_idle`: terminates (pg_terminate_backend) client
// sessions that have been idle, or idle in a transaction, for longer than the
// knob's value in seconds, filtered by application_name and/or user (at
// least one filter is required). Never a superuser's session, never
// trimtab's own. At most max_per_apply sessions, oldest first, per apply;
// effective when every one of them is verified gone.
class PostgresTerminateIdleActuator final : public PgActuatorBase {
 public:
  struct Options {
    PgActuatorSettings settings;
    // states: which of "idle", "idle in transaction", "idle in transaction (aborted)".
    std::vector<std::string> states{"idle in transaction", "idle in transaction (aborted)"};
    std::vector<std::string> applicationNames;  // application_names
    std::vector<std::string> users;             // users
    int maxPerApply = 20;                       // max_per_apply
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  PostgresTerminateIdleActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  Options options_;
};

}  // namespace trimtab
