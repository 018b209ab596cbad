// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actuators/postgres_actuator_base.h"

namespace trimtab {

// `postgres_vacuum`: VACUUM (ANALYZE) of the user tables whose dead tuples
// (pg_stat_user_tables.n_dead_tup) exceed the knob's value, most dead tuples
// first, one table at a time, at most max_tables_per_apply per apply.
// Table names come from the statistics view, are checked to exist
// (to_regclass) and are quoted with quote_name. Effective when no table
// (within `tables`, if given) is left above the threshold.
class PostgresVacuumActuator final : public PgActuatorBase {
 public:
  struct Options {
    PgActuatorSettings settings;
    std::vector<std::string> tables;  // tables: "schema.table" or "table"; empty = all user tables
    int maxTablesPerApply = 1;        // max_tables_per_apply
    bool analyze = true;              // analyze: VACUUM (ANALYZE) or plain VACUUM
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  PostgresVacuumActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  Options options_;
};

}  // namespace trimtab
