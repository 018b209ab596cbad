// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <string>

#include "actuators/actuator.h"
#include "common/server_guard.h"

// Retries and circuit breaker shared by the server actuators (redis_*,
// postgres_*, pgbouncer_*); not an extension API.
namespace trimtab {

inline constexpr int kServerActuatorMaxRetries = 10;
inline constexpr Seconds kServerActuatorMaxTimeout = 600;
inline constexpr Seconds kServerActuatorMaxBackoff = 30;

// Keys every server actuator has (docs/config.md, "server actuators").
struct ServerRetryOptions {
  Seconds timeout = 5;       // timeout: bound on one attempt (connect + commands)
  int retries = 1;           // retries: further attempts after a connection failure
  Seconds backoff = 0.2;     // backoff: before the first retry, doubling
  int breakerFailures = 5;   // breaker_failures: failed applies in a row that open the breaker
  Seconds breakerOpen = 30;  // breaker_open: how long it stays open
};

// Reads timeout, retries, backoff, breaker_failures, breaker_open (defaults
// from `out`); problems are recorded on params.
void readServerRetryOptions(ConfigNode& params, ServerRetryOptions& out);

// The breaker of one actuator (no backoff of its own: retries sleep instead).
GuardOptions breakerOptions(const ServerRetryOptions& options);

// One try at applying a change.
struct AttemptResult {
  bool ok = false;
  bool effective = false;
  bool retryable = false;  // a connection failure, worth another attempt
  std::string detail;
};

// Runs `attempt` once, and again (up to `retries` more, sleeping `backoff`,
// doubling) while it fails retryably, through `breaker`: while the breaker is
// open, fails at once; half-open, makes a single attempt. Each failed apply
// counts one failure on the breaker.
ActuationOutcome runGuarded(ServerGuard& breaker, const std::string& what, const ServerRetryOptions& options,
                            const std::function<AttemptResult()>& attempt,
                            const std::function<void(Seconds)>& sleep);

// Sleeps on the real clock (the factories' default).
void sleepSeconds(Seconds s);

}  // namespace trimtab
