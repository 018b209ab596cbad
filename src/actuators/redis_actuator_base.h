// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>

#include "actuators/actuator.h"
#include "actuators/server_retry.h"
#include "sources/redis_connection.h"

namespace trimtab {

// Settings every Redis actuator has: the connection (url, password |
// password_file, username, db) and the retry keys (timeout, retries,
// backoff, breaker_failures, breaker_open).
struct RedisActuatorSettings {
  RedisOptions redis;
  ServerRetryOptions retry;
};

// Reads those keys (problems recorded on params); the connection's timeout is
// retry.timeout.
void readRedisActuatorSettings(ConfigNode& params, RedisActuatorSettings& out);

// What the Redis actuators share: one reused connection, retries on
// connection failures and a circuit breaker (runGuarded).
class RedisActuatorBase : public Actuator {
 protected:
  RedisActuatorBase(RedisActuatorSettings settings, std::function<void(Seconds)> sleep);

  // Runs attempt() under the retry loop and the breaker.
  ActuationOutcome guarded(const std::function<AttemptResult()>& attempt);
  // A failed connection or transport: retryable.
  static AttemptResult connectionFailure(const Error& error);
  // The text of a reply for messages ("OK", "(integer) 1", the error text).
  static std::string describe(const RedisReply& reply);

  RedisActuatorSettings settings_;
  RedisConnection connection_;

 private:
  ServerGuard breaker_;
  std::function<void(Seconds)> sleep_;
};

}  // namespace trimtab
