// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <limits>
#include <mutex>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace trimtab {

struct GuardOptions {
  Seconds backoffInitial = 0.1;  // wait after the first failure, doubling per failure
  Seconds backoffMax = 5;        // cap of that wait
  // Consecutive failures that open the breaker; while open, calls fail at once
  // for `breakerOpen`, then one call goes through (half-open).
  int breakerFailures = std::numeric_limits<int>::max();
  Seconds breakerOpen = 30;
};

// Keeps a client from hammering a server that is down: after each failure the
// next attempt waits (doubling backoff, capped); after `breakerFailures`
// failures in a row the circuit opens for `breakerOpen`. Success resets both.
// Nothing here sleeps: admit() says whether a call may go out now.
//
// Thread safety: all methods may be called from any thread.
class ServerGuard {
 public:
  // `now` is a monotonic clock in seconds (tests inject a fake one).
  explicit ServerGuard(GuardOptions options, std::function<Seconds()> now = steadyNow);

  // Success when a call may go out now; else an Error "<what>: backing off
  // 0.4s after 3 failures" or "<what>: circuit open for 12.0s more after 5
  // failures". `what` names the server for the message.
  Status admit(const std::string& what);
  void succeeded();
  void failed();

  int consecutiveFailures() const;
  bool open() const;  // the breaker is open (or half-open)

  // Monotonic seconds (steady_clock).
  static Seconds steadyNow();

 private:
  GuardOptions options_;
  std::function<Seconds()> now_;
  mutable std::mutex mu_;
  int failures_ = 0;
  Seconds notBefore_ = -std::numeric_limits<Seconds>::infinity();
};

}  // namespace trimtab
