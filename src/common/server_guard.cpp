// SPDX-License-Identifier: Apache-2.0
#include "common/server_guard.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

namespace trimtab {

ServerGuard::ServerGuard(GuardOptions options, std::function<Seconds()> now)
    : options_(options), now_(std::move(now)) {}

Seconds ServerGuard::steadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

Status ServerGuard::admit(const std::string& what) {
  std::lock_guard lock(mu_);
  Seconds now = now_();
  if (now >= notBefore_) return Status::success();
  if (failures_ >= options_.breakerFailures)
    return makeError(fmt::format("{}: circuit open for {:.1f}s more after {} consecutive failures", what,
                                 notBefore_ - now, failures_));
  return makeError(fmt::format("{}: backing off {:.2f}s more after {} consecutive failures", what,
                               notBefore_ - now, failures_));
}

void ServerGuard::succeeded() {
  std::lock_guard lock(mu_);
  failures_ = 0;
  notBefore_ = -std::numeric_limits<Seconds>::infinity();
}

void ServerGuard::failed() {
  std::lock_guard lock(mu_);
  if (failures_ < std::numeric_limits<int>::max()) ++failures_;
  Seconds wait;
  if (failures_ >= options_.breakerFailures) {
    wait = options_.breakerOpen;
  } else {
    // 2^(failures-1) overflows nothing: the exponent is capped long before.
    int exponent = std::min(failures_ - 1, 30);
    wait = std::min(options_.backoffInitial * std::ldexp(1.0, exponent), options_.backoffMax);
  }
  notBefore_ = now_() + wait;
}

int ServerGuard::consecutiveFailures() const {
  std::lock_guard lock(mu_);
  return failures_;
}

bool ServerGuard::open() const {
  std::lock_guard lock(mu_);
  return failures_ >= options_.breakerFailures;
}

}  // namespace trimtab
