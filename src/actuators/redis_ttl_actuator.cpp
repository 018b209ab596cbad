// SPDX-License-Identifier: Apache-2.0
#include "actuators/redis_ttl_actuator.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "redis_ttl", RedisTtlActuator::create);

namespace {

constexpr double kMaxTtlSeconds = 1e10;  // ~300 years: EXPIRE's range with room to spare

}  // namespace

Result<RedisTtlActuator::Options> RedisTtlActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readRedisActuatorSettings(params, o.settings);
  if (auto pattern = params.requiredString("pattern")) {
    o.pattern = *pattern;
    if (o.pattern.empty()) params.error("pattern", "expected a key pattern like 'cache:*'");
  }
  o.batch = actuator_support::intSetting(params, "batch", o.batch, 1, kRedisTtlMaxBatch);
  o.timeBudget = params.getDuration("time_budget", o.timeBudget);
  if (!(o.timeBudget > 0) || o.timeBudget > o.settings.retry.timeout)
    params.error("time_budget", "expected a duration above 0 and at most the timeout");
  o.maxKeysPerApply = params.getInteger("max_keys_per_apply", o.maxKeysPerApply);
  if (o.maxKeysPerApply < 1) params.error("max_keys_per_apply", "expected an integer of at least 1");
  o.shortenOnly = params.getEnum("mode", {"shorten", "set"}, "shorten") == "shorten";
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> RedisTtlActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(
      std::make_unique<RedisTtlActuator>(std::move(*options), sleepSeconds, ServerGuard::steadyNow));
}

RedisTtlActuator::RedisTtlActuator(Options options, std::function<void(Seconds)> sleep, std::function<Seconds()> now)
    : RedisActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)), now_(std::move(now)) {}

ActuationOutcome RedisTtlActuator::apply(const ActuationRequest& request) {
  if (!(request.value >= 1 && request.value <= kMaxTtlSeconds) || request.value != std::trunc(request.value)) {
    ActuationOutcome refused;
    refused.detail = fmt::format("a TTL must be a whole number of seconds from 1 to {:.0f}, got {}", kMaxTtlSeconds,
                                 actuator_support::formatValue(request.value));
    return refused;
  }
  const auto ttl = static_cast<long long>(request.value);
  if (!scanning_ || ttl != scanTtl_) {
    scanning_ = true;
    scanTtl_ = ttl;
    cursor_ = "0";
    scanned_ = changed_ = 0;
    applies_ = 0;
  }
  ++applies_;
  return guarded([&] { return step(ttl); });
}

AttemptResult RedisTtlActuator::step(long long ttl) {
  const Seconds deadline = now_() + options_.timeBudget;
  const std::string ttlText = std::to_string(ttl);
  const std::string count = std::to_string(options_.batch);
  std::int64_t keysThisApply = 0;
  std::vector<std::vector<std::string>> expires;
  do {
    auto scan = connection_.command({"SCAN", cursor_, "MATCH", options_.pattern, "COUNT", count});
    if (!scan) return connectionFailure(scan.error());
    if (scan->isError()) return AttemptResult{false, false, false, "SCAN refused: " + scan->str};
    if (scan->type != RedisReply::Type::Array || scan->elements.size() != 2)
      return AttemptResult{false, false, false, "SCAN: unexpected reply " + describe(*scan)};
    const auto& keys = scan->elements[1].elements;
    expires.clear();
    for (const auto& key : keys) {
      if (options_.shortenOnly)
        expires.push_back({"EXPIRE", key.str, ttlText, "LT"});
      else
        expires.push_back({"EXPIRE", key.str, ttlText});
    }
    if (!expires.empty()) {
      auto replies = connection_.pipeline(expires);
      if (!replies) return connectionFailure(replies.error());
      for (const auto& r : *replies) {
        if (r.isError()) {
          std::string hint = options_.shortenOnly ? " (mode shorten needs Redis 7 or later: EXPIRE ... LT)" : "";
          return AttemptResult{false, false, false, "EXPIRE refused: " + r.str + hint};
        }
        if (r.type == RedisReply::Type::Integer && r.integer == 1) ++changed_;
      }
    }
    scanned_ += keys.size();
    keysThisApply += static_cast<std::int64_t>(keys.size());
    cursor_ = scan->elements[0].str;
  } while (cursor_ != "0" && now_() < deadline && keysThisApply < options_.maxKeysPerApply);

  AttemptResult r;
  r.ok = true;
  std::string what = fmt::format("TTL {}s on {} of {} keys matching '{}'", ttl, changed_, scanned_, options_.pattern);
  if (cursor_ == "0") {
    scanning_ = false;
    r.effective = true;
    r.detail = fmt::format("{} (scan complete after {} applies)", what, applies_);
  } else {
    r.detail = fmt::format("{} so far; applied, not yet effective: the scan continues on the next apply", what);
  }
  return r;
}

}  // namespace trimtab
