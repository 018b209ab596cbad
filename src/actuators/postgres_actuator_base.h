// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actuators/actuator.h"
#include "actuators/server_retry.h"
#include "common/pg_connection.h"

namespace trimtab {

// Settings every PostgreSQL or pgbouncer actuator has: the connection (dsn,
// password | password_file, application_name) and the retry keys (timeout,
// retries, backoff, breaker_failures, breaker_open).
struct PgActuatorSettings {
  PgOptions pg;
  ServerRetryOptions retry;
};

// Reads those keys (problems recorded on params); connect and statement
// timeouts are retry.timeout. `adminConsole` for pgbouncer.
void readPgActuatorSettings(ConfigNode& params, PgActuatorSettings& out, bool adminConsole);

// What the PostgreSQL and pgbouncer actuators share: one reused connection,
// retries on connection failures, a circuit breaker.
class PgActuatorBase : public Actuator {
 protected:
  PgActuatorBase(PgActuatorSettings settings, std::function<void(Seconds)> sleep);

  ActuationOutcome guarded(const std::function<AttemptResult()>& attempt);
  // Runs `work` on the connection: true on success; else false with
  // `failure` filled (retryable when the connection failed, not on SQL errors).
  bool runOrFail(const std::function<void(pqxx::connection&)>& work, AttemptResult& failure,
                 std::optional<Seconds> timeout = std::nullopt);
  // The same on pgbouncer's admin console (simple query protocol).
  bool runSimpleOrFail(const std::function<void(PgSimpleSession&)>& work, AttemptResult& failure);

  PgActuatorSettings settings_;
  PgConnection connection_;
  std::function<void(Seconds)> sleep_;

 private:
  ServerGuard breaker_;
};

// A PostgreSQL text[] literal ({"a","b\"c"}) for a bound parameter.
std::string pgTextArray(const std::vector<std::string>& items);

}  // namespace trimtab
