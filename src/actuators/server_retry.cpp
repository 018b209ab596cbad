// SPDX-License-Identifier: Apache-2.0
#include "actuators/server_retry.h"

#include <chrono>
#include <limits>
#include <thread>

#include <fmt/format.h>

#include "actuators/actuator_support.h"

namespace trimtab {

void readServerRetryOptions(ConfigNode& params, ServerRetryOptions& o) {
  o.timeout = params.getDuration("timeout", o.timeout);
  if (!(o.timeout > 0 && o.timeout <= kServerActuatorMaxTimeout))
    params.error("timeout", fmt::format("expected a duration above 0 and at most {}s", kServerActuatorMaxTimeout));
  o.retries = actuator_support::intSetting(params, "retries", o.retries, 0, kServerActuatorMaxRetries);
  o.backoff = params.getDuration("backoff", o.backoff);
  if (!(o.backoff >= 0 && o.backoff <= kServerActuatorMaxBackoff))
    params.error("backoff", fmt::format("expected a duration from 0 to {}s", kServerActuatorMaxBackoff));
  o.breakerFailures =
      actuator_support::intSetting(params, "breaker_failures", o.breakerFailures, 1, std::numeric_limits<int>::max());
  o.breakerOpen = params.getDuration("breaker_open", o.breakerOpen);
  if (!(o.breakerOpen > 0)) params.error("breaker_open", "expected a duration above 0");
}

GuardOptions breakerOptions(const ServerRetryOptions& options) {
  GuardOptions g;
  g.backoffInitial = 0;
  g.backoffMax = 0;
  g.breakerFailures = options.breakerFailures;
  g.breakerOpen = options.breakerOpen;
  return g;
}

ActuationOutcome runGuarded(ServerGuard& breaker, const std::string& what, const ServerRetryOptions& options,
                            const std::function<AttemptResult()>& attempt,
                            const std::function<void(Seconds)>& sleep) {
  ActuationOutcome outcome;
  if (Status admitted = breaker.admit(what); !admitted.ok()) {
    outcome.detail = admitted.error().message;
    return outcome;
  }
  const bool halfOpen = breaker.open();
  const int maxAttempts = halfOpen ? 1 : options.retries + 1;
  Seconds delay = options.backoff;
  AttemptResult last;
  for (int i = 0; i < maxAttempts; ++i) {
    if (i > 0) {
      sleep(delay);
      delay *= 2;
    }
    last = attempt();
    outcome.attempts = i + 1;
    if (last.ok || !last.retryable) break;
  }
  outcome.ok = last.ok;
  outcome.effective = last.ok && last.effective;
  outcome.detail = last.detail;
  if (last.ok) {
    breaker.succeeded();
    return outcome;
  }
  if (outcome.attempts > 1) outcome.detail += fmt::format(" ({} attempts)", outcome.attempts);
  breaker.failed();
  if (breaker.open()) outcome.detail += fmt::format("; circuit opened for {}s", options.breakerOpen);
  return outcome;
}

void sleepSeconds(Seconds s) {
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

}  // namespace trimtab
