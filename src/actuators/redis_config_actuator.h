// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "actuators/redis_actuator_base.h"

namespace trimtab {

// How a knob's number becomes a Redis parameter value.
enum class RedisParamType { Integer, Bytes, Bool, Enum };

// One parameter the `redis_config` actuator may change.
struct RedisParamSpec {
  std::string_view name;
  RedisParamType type;
  double min = 0;  // Integer, Bytes
  double max = 0;
  std::vector<std::string_view> values = {};  // Enum: knob value i selects values[i]
};

// The allowlist: parameters that are safe to change at runtime (memory and
// eviction, expiry frequency, lazy freeing, defragmentation, ...). Anything
// else is refused when the config is checked.
const std::vector<RedisParamSpec>& redisConfigAllowlist();

// `redis_config`: CONFIG SET of one allowlisted parameter, verified with
// CONFIG GET in the same round trip ("maxmemory = 104857600 (was 0)").
// Integer and bytes parameters take the knob's whole value within the
// parameter's range; bool ones map 0 to "no" and anything else to "yes";
// enum ones (maxmemory-policy) take an index into `values` (default: the
// parameter's values in a fixed documented order).
// A value out of range, or a refusal by the server, fails the apply without
// retry; connection failures are retried, then open the breaker.
class RedisConfigActuator final : public RedisActuatorBase {
 public:
  struct Options {
    RedisActuatorSettings settings;
    const RedisParamSpec* param = nullptr;
    std::vector<std::string> values;  // enum values, by knob value
  };

  static Result<Options> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  RedisConfigActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;
  bool losesSettingOnRestart() const override { return true; }

  // The literal CONFIG SET receives for `value`, or an Error saying why the
  // value does not fit the parameter.
  Result<std::string> literal(double value) const;

 private:
  Options options_;
};

}  // namespace trimtab
