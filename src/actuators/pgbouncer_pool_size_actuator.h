// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actuators/postgres_actuator_base.h"
#include "common/pg_table.h"

namespace trimtab {

inline constexpr int kPgbouncerMaxPoolSize = 10000;

// `pgbouncer_pool_size`: sets pgbouncer's default_pool_size through the
// admin console (SET default_pool_size = N; simple query protocol only) and
// verifies it: SHOW CONFIG must show N, and SHOW DATABASES the pool size of
// `database` (a database with its own pool_size in pgbouncer.ini is not
// governed by default_pool_size: the apply fails and says so).
//
// Growing takes effect by itself (pgbouncer opens server connections as
// clients wait). Shrinking does not while the server connections are busy
// (DESIGN.md, "Knobs"): the actuator then sends RECONNECT [database] and
// polls SHOW POOLS until every pool of the database holds at most N server
// connections, within verify_timeout; otherwise it reports "applied, not yet
// effective".
class PgbouncerPoolSizeActuator final : public PgActuatorBase {
 public:
  struct Options {
    PgActuatorSettings settings;
    std::string database;          // database: the pgbouncer database to verify/reconnect ("" = all)
    Seconds verifyTimeout = 2;     // verify_timeout
    bool reconnectOnShrink = true; // reconnect_on_shrink
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  PgbouncerPoolSizeActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;
  bool losesSettingOnRestart() const override { return true; }

  // Largest number of server connections of one pool (database, user) of
  // `database` ("" = every database but the admin one) in SHOW POOLS.
  static int largestPool(const PgTable& showPools, const std::string& database);

 private:
  Options options_;
};

}  // namespace trimtab
