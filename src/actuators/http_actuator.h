// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "actuators/actuator.h"

namespace trimtab {

// Settings of the `http` actuator (keys in docs/config.md).
struct HttpActuatorOptions {
  std::string url;                              // url: http://host:port/path (required)
  std::string method = "POST";                  // method: POST | PUT
  Seconds timeout = 2;                          // timeout: per attempt
  int retries = 2;                              // retries: attempts after the first
  Seconds backoff = 0.2;                        // backoff: before the first retry, doubling
  std::map<std::string, std::string> headers;   // headers: a value "env:NAME" reads $NAME at apply time
  std::optional<std::string> body;              // body: template with {knob} {value} {previous} {reason}
  int expectStatus = 0;                         // expect_status: one code, or 0 for any 2xx
  int breakerFailures = 5;                      // breaker_failures: failed applies that open the breaker
  Seconds breakerOpen = 30;                     // breaker_open: how long it stays open
};

inline constexpr int kHttpActuatorMaxRetries = 10;
inline constexpr Seconds kHttpActuatorMaxTimeout = 60;
inline constexpr Seconds kHttpActuatorMaxBackoff = 30;

// Sends a knob's new value to an HTTP endpoint: POST/PUT of a JSON body
// {"knob","value","previous","reason"} (or the `body` template), retried on
// transport errors, 408, 429 and 5xx with doubling backoff (no jitter: one
// sidecar talks to its own target), and guarded by a circuit breaker.
//
// Breaker: after `breakerFailures` consecutive failed applies it opens for
// `breakerOpen`; applies then fail at once ("circuit open until ..."). After
// that, one apply with a single attempt goes through (half-open): success
// closes the breaker, failure opens it again.
//
// apply() returns within (retries + 1) * timeout + backoff * (2^retries - 1).
// Details name the URL without userinfo or query and never carry header values.
class HttpActuator final : public Actuator {
 public:
  // `now` is a monotonic clock in seconds (the breaker's and latency's time);
  // `sleep` waits between retries. Tests inject both.
  HttpActuator(HttpActuatorOptions options, std::function<Seconds()> now,
               std::function<void(Seconds)> sleep);

  // Reads and checks the settings; every problem is also recorded on params.
  static Result<HttpActuatorOptions> parseOptions(ConfigNode& params);
  // The registered factory: parseOptions + a steady clock and a real sleep.
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  struct Attempt {
    bool ok = false;
    bool retryable = false;
    std::string detail;
  };
  Attempt attempt(const std::string& body, const std::map<std::string, std::string>& headers);
  std::string renderBody(const ActuationRequest& request) const;

  HttpActuatorOptions options_;
  std::string displayUrl_;  // no userinfo, no query: safe in details and logs
  std::function<Seconds()> now_;
  std::function<void(Seconds)> sleep_;

  std::mutex breakerMu_;  // apply() is called one at a time; this is belt and braces
  int consecutiveFailures_ = 0;
  std::optional<Seconds> openUntil_;  // set while open or half-open
};

}  // namespace trimtab
