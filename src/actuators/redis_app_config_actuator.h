// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actuators/redis_actuator_base.h"

namespace trimtab {

// `redis_app_config`: the application-config pattern. Writes the knob's value
// into a hash (HSET app:config cache_ttl 300), then PUBLISHes a change message
// on a channel so the service reloads it; HGET in the same pipeline verifies
// the write. The detail says how many subscribers received the message.
class RedisAppConfigActuator final : public RedisActuatorBase {
 public:
  struct Options {
    RedisActuatorSettings settings;
    std::string key = "app:config";      // key: the hash
    std::string field;                   // field: default the knob's name
    std::string channel = "app:config";  // channel: "" publishes nothing
    // message: template with {knob} {field} {value} {previous} {reason};
    // default a JSON object {"field":..,"value":..,"previous":..}.
    std::string message;
  };

  static Result<Options> parseOptions(ConfigNode& params, const ActuatorContext& context);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);

  RedisAppConfigActuator(Options options, std::function<void(Seconds)> sleep);

  ActuationOutcome apply(const ActuationRequest& request) override;
  bool losesSettingOnRestart() const override { return true; }

  // The message published for `request`.
  std::string message(const ActuationRequest& request) const;

 private:
  Options options_;
};

}  // namespace trimtab
