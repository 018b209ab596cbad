// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "actuators/postgres_actuator_base.h"

namespace trimtab {

// Settings the `postgres_setting` actuator may change: planner costs, memory
// per operation, timeouts, autovacuum, checkpoints and the background writer.
// All take effect on a reload; the actuator also checks pg_settings.context
// at apply time (sighup, user or superuser; never postmaster).
const std::vector<std::string_view>& postgresSettingAllowlist();

// `postgres_setting`: ALTER SYSTEM SET <setting> = '<value>' then SELECT
// pg_reload_conf(), verified by reading pg_settings.setting until it shows
// the new value (within verify_timeout; else "applied, not yet effective").
// The value is in the setting's own unit (pg_settings.unit: work_mem in kB,
// statement_timeout in ms); bool settings map 0 to off, anything else to on;
// integer settings take whole values. The literal is built from the number
// (never from text) and quoted; the name comes from the allowlist and is
// quoted with quote_name. The server's own range check refuses bad values.
class PostgresSettingActuator final : public PgActuatorBase {
 public:
  struct Options {
    PgActuatorSettings settings;
    std::string setting;         // setting (required, allowlisted)
    Seconds verifyTimeout = 2;   // verify_timeout
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  PostgresSettingActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  Options options_;
};

}  // namespace trimtab
