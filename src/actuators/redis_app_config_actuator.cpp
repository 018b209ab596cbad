// SPDX-License-Identifier: Apache-2.0
#include "actuators/redis_app_config_actuator.h"

#include <cmath>
#include <cstdint>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "redis_app_config", RedisAppConfigActuator::create);

Result<RedisAppConfigActuator::Options> RedisAppConfigActuator::parseOptions(ConfigNode& params,
                                                                             const ActuatorContext& context) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readRedisActuatorSettings(params, o.settings);
  o.key = params.getString("key", o.key);
  if (o.key.empty()) params.error("key", "expected the name of a hash, like app:config");
  o.field = params.getString("field", context.knob);
  if (o.field.empty()) params.error("field", "expected a field name (default: the knob's name)");
  o.channel = params.getString("channel", o.channel);
  o.message = params.getString("message", "");
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> RedisAppConfigActuator::create(ConfigNode& params, const ActuatorContext& context) {
  auto options = parseOptions(params, context);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(std::make_unique<RedisAppConfigActuator>(std::move(*options), sleepSeconds));
}

RedisAppConfigActuator::RedisAppConfigActuator(Options options, std::function<void(Seconds)> sleep)
    : RedisActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

std::string RedisAppConfigActuator::message(const ActuationRequest& request) const {
  if (options_.message.empty()) {
    auto number = [](double v) -> nlohmann::json {
      constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
      if (!std::isfinite(v)) return nullptr;
      if (v == std::trunc(v) && std::fabs(v) < kExactIntegerLimit) return static_cast<std::int64_t>(v);
      return v;
    };
    nlohmann::json body = {{"field", options_.field}, {"value", number(request.value)}, {"previous", number(request.previous)}};
    return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  }
  std::string text = actuator_support::substitute(options_.message, request);
  for (auto at = text.find("{field}"); at != std::string::npos; at = text.find("{field}", at + options_.field.size()))
    text.replace(at, 7, options_.field);
  return text;
}

ActuationOutcome RedisAppConfigActuator::apply(const ActuationRequest& request) {
  const std::string value = actuator_support::formatValue(request.value);
  std::vector<std::vector<std::string>> commands = {{"HSET", options_.key, options_.field, value},
                                                     {"HGET", options_.key, options_.field}};
  if (!options_.channel.empty()) commands.push_back({"PUBLISH", options_.channel, message(request)});
  return guarded([&]() -> AttemptResult {
    auto replies = connection_.pipeline(commands);
    if (!replies) return connectionFailure(replies.error());
    for (const auto& r : *replies)
      if (r.isError()) return AttemptResult{false, false, false, "refused by " + connection_.display() + ": " + r.str};
    AttemptResult out;
    out.ok = true;
    out.effective = (*replies)[1].str == value;
    out.detail = fmt::format("{} {} = {}", options_.key, options_.field, (*replies)[1].str);
    if (!options_.channel.empty())
      out.detail += fmt::format(", published on {} to {} subscribers", options_.channel, (*replies)[2].integer);
    if (!out.effective) out.detail += "; applied, not yet effective: HGET answers another value";
    return out;
  });
}

}  // namespace trimtab
