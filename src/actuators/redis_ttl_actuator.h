// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "actuators/redis_actuator_base.h"

namespace trimtab {

inline constexpr int kRedisTtlMaxBatch = 10000;

// `redis_ttl`: sets the TTL of the keys matching a pattern to the knob's
// value (seconds), walking the keyspace with SCAN (never KEYS) in batches of
// `batch` keys, each batch's EXPIREs sent in one pipeline. One apply works for
// at most `time_budget` and `max_keys_per_apply` keys, then returns with
// effective = false ("... scan continues on the next apply"); the next apply
// with the same value resumes at the saved cursor, one with another value
// starts a new scan. The apply that finishes the walk reports effective.
// mode `shorten` (default) only lowers TTLs (EXPIRE ... LT, Redis 7+: a key
// without a TTL gets one); mode `set` sets every key's TTL.
//
// Values below 1 are refused (EXPIRE 0 deletes a key).
class RedisTtlActuator final : public RedisActuatorBase {
 public:
  struct Options {
    RedisActuatorSettings settings;
    std::string pattern;                // pattern: SCAN MATCH glob (required)
    int batch = 500;                    // batch: SCAN COUNT and EXPIREs per pipeline
    Seconds timeBudget = 0.1;           // time_budget: work per apply
    std::int64_t maxKeysPerApply = 100000;  // max_keys_per_apply
    bool shortenOnly = true;            // mode: shorten | set
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  // `now` (monotonic seconds) measures the time budget.
  RedisTtlActuator(Options options, std::function<void(Seconds)> sleep, std::function<Seconds()> now);

  ActuationOutcome apply(const ActuationRequest& request) override;

  bool scanInProgress() const { return scanning_; }

 private:
  AttemptResult step(long long ttl);

  Options options_;
  std::function<Seconds()> now_;
  // The walk in progress (SCAN cursors are stateless on the server, so a walk
  // survives a reconnect).
  bool scanning_ = false;
  long long scanTtl_ = 0;
  std::string cursor_ = "0";
  std::uint64_t scanned_ = 0;
  std::uint64_t changed_ = 0;
  int applies_ = 0;
};

}  // namespace trimtab
