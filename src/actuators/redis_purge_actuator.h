// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>

#include "actuators/redis_actuator_base.h"

namespace trimtab {

// `redis_purge`: MEMORY PURGE (asks the allocator to return dirty pages), on
// every applied change of its knob, whatever the value (a policy bumps a
// counter knob to purge). The detail shows the fragmentation ratio and RSS
// before and after, read with INFO memory in the same round trip. No keys of
// its own beyond the connection and retry keys.
class RedisPurgeActuator final : public RedisActuatorBase {
 public:
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  RedisPurgeActuator(RedisActuatorSettings settings, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;
};

}  // namespace trimtab
