// SPDX-License-Identifier: Apache-2.0
#include "actuators/redis_actuator_base.h"

#include <filesystem>

namespace trimtab {

void readRedisActuatorSettings(ConfigNode& params, RedisActuatorSettings& out) {
  std::string file = params.file();
  readRedisOptions(params, out.redis, [&](const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    auto dir = std::filesystem::path(file).parent_path();
    return dir.empty() ? path : (dir / path).string();
  });
  readServerRetryOptions(params, out.retry);
  out.redis.timeout = out.retry.timeout;
  // The breaker paces an actuator's reconnects; the connection needs no backoff of its own.
  out.redis.guard = GuardOptions{0, 0};
}

RedisActuatorBase::RedisActuatorBase(RedisActuatorSettings settings, std::function<void(Seconds)> sleep)
    : settings_(std::move(settings)),
      connection_(settings_.redis),
      breaker_(breakerOptions(settings_.retry)),
      sleep_(std::move(sleep)) {}

ActuationOutcome RedisActuatorBase::guarded(const std::function<AttemptResult()>& attempt) {
  return runGuarded(breaker_, connection_.display(), settings_.retry, attempt, sleep_);
}

AttemptResult RedisActuatorBase::connectionFailure(const Error& error) {
  AttemptResult r;
  r.retryable = true;
  r.detail = error.message;
  return r;
}

std::string RedisActuatorBase::describe(const RedisReply& reply) {
  switch (reply.type) {
    case RedisReply::Type::Nil: return "(nil)";
    case RedisReply::Type::Integer: return "(integer) " + std::to_string(reply.integer);
    case RedisReply::Type::Array: return "(array of " + std::to_string(reply.elements.size()) + ")";
    default: return reply.str;
  }
}

}  // namespace trimtab
