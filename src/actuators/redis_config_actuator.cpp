// SPDX-License-Identifier: Apache-2.0
#include "actuators/redis_config_actuator.h"

#include <cmath>

#include <fmt/format.h>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "redis_config", RedisConfigActuator::create);

namespace {

constexpr double kMaxBytes = 1e15;  // a petabyte: beyond any Redis's memory
using T = RedisParamType;

}  // namespace

const std::vector<RedisParamSpec>& redisConfigAllowlist() {
  static const std::vector<RedisParamSpec> list = {
      {"maxmemory", T::Bytes, 0, kMaxBytes},
      {"maxmemory-policy", T::Enum, 0, 0,
       {"noeviction", "allkeys-lru", "allkeys-lfu", "allkeys-random", "volatile-lru", "volatile-lfu",
        "volatile-random", "volatile-ttl"}},
      {"maxmemory-samples", T::Integer, 1, 64},
      {"maxmemory-eviction-tenacity", T::Integer, 0, 100},
      {"hz", T::Integer, 1, 500},
      {"dynamic-hz", T::Bool},
      {"active-expire-effort", T::Integer, 1, 10},
      {"lazyfree-lazy-eviction", T::Bool},
      {"lazyfree-lazy-expire", T::Bool},
      {"lazyfree-lazy-server-del", T::Bool},
      {"lazyfree-lazy-user-del", T::Bool},
      {"lazyfree-lazy-user-flush", T::Bool},
      {"activedefrag", T::Bool},
      {"active-defrag-ignore-bytes", T::Bytes, 1, kMaxBytes},
      {"active-defrag-threshold-lower", T::Integer, 0, 1000},
      {"active-defrag-threshold-upper", T::Integer, 0, 1000},
      {"active-defrag-cycle-min", T::Integer, 1, 99},
      {"active-defrag-cycle-max", T::Integer, 1, 99},
      {"lfu-log-factor", T::Integer, 0, 255},
      {"lfu-decay-time", T::Integer, 0, 1e6},
      {"timeout", T::Integer, 0, 1e7},
      {"slowlog-log-slower-than", T::Integer, -1, 1e9},
      {"slowlog-max-len", T::Integer, 0, 1e6},
  };
  return list;
}

Result<RedisConfigActuator::Options> RedisConfigActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readRedisActuatorSettings(params, o.settings);
  if (auto name = params.requiredString("parameter")) {
    std::vector<std::string> names;
    for (const auto& p : redisConfigAllowlist()) {
      names.emplace_back(p.name);
      if (p.name == *name) o.param = &p;
    }
    if (!o.param) {
      std::string hint = closestMatch(*name, names);
      params.error("parameter", "'" + *name + "' is not a parameter trimtab may change" +
                                    (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                    "; allowed: see docs/config.md, actuator kind redis_config");
    }
  }
  if (params.has("values")) {
    o.values = params.getStringList("values");
    if (o.param && o.param->type != RedisParamType::Enum) {
      params.error("values", "only enum parameters (maxmemory-policy) take values");
    } else if (o.param) {
      if (o.values.empty()) params.error("values", "expected at least one value");
      for (const auto& v : o.values) {
        bool known = false;
        for (auto allowed : o.param->values) known = known || allowed == v;
        if (!known) params.error("values", "'" + v + "' is not a value of " + std::string(o.param->name));
      }
    }
  } else if (o.param && o.param->type == RedisParamType::Enum) {
    for (auto v : o.param->values) o.values.emplace_back(v);
  }
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> RedisConfigActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(std::make_unique<RedisConfigActuator>(std::move(*options), sleepSeconds));
}

RedisConfigActuator::RedisConfigActuator(Options options, std::function<void(Seconds)> sleep)
    : RedisActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

Result<std::string> RedisConfigActuator::literal(double value) const {
  const RedisParamSpec& p = *options_.param;
  if (!std::isfinite(value)) return makeError(fmt::format("{}: value {} is not a number", p.name, value));
  switch (p.type) {
    case RedisParamType::Bool: return std::string(value != 0 ? "yes" : "no");
    case RedisParamType::Enum: {
      if (value != std::trunc(value) || value < 0 || value >= static_cast<double>(options_.values.size()))
        return makeError(fmt::format("{}: value {} is not an index from 0 to {}", p.name,
                                     actuator_support::formatValue(value), options_.values.size() - 1));
      return options_.values[static_cast<std::size_t>(value)];
    }
    case RedisParamType::Integer:
    case RedisParamType::Bytes:
      if (value != std::trunc(value)) return makeError(fmt::format("{}: expects a whole number, got {}", p.name, value));
      if (value < p.min || value > p.max)
        return makeError(fmt::format("{}: value {} is outside {}..{}", p.name, actuator_support::formatValue(value),
                                     actuator_support::formatValue(p.min), actuator_support::formatValue(p.max)));
      return actuator_support::formatValue(value);
  }
  return makeError("unknown parameter type");
}

ActuationOutcome RedisConfigActuator::apply(const ActuationRequest& request) {
  auto value = literal(request.value);
  if (!value) {
    ActuationOutcome refused;
    refused.detail = value.error().message;
    return refused;
  }
  const std::string name(options_.param->name);
  return guarded([&]() -> AttemptResult {
    auto replies = connection_.pipeline({{"CONFIG", "GET", name}, {"CONFIG", "SET", name, *value}, {"CONFIG", "GET", name}});
    if (!replies) return connectionFailure(replies.error());
    auto got = [](const RedisReply& r) {
      return r.type == RedisReply::Type::Array && r.elements.size() == 2 ? r.elements[1].str : std::string("?");
    };
    const RedisReply& set = (*replies)[1];
    AttemptResult r;
    if (set.isError()) {
      r.detail = fmt::format("CONFIG SET {} {} refused by {}: {}", name, *value, connection_.display(), set.str);
      return r;
    }
    std::string before = got((*replies)[0]);
    std::string after = got((*replies)[2]);
    r.ok = true;
    r.effective = after == *value;
    r.detail = fmt::format("{} = {} (was {})", name, after, before);
    if (!r.effective) r.detail += fmt::format("; applied, not yet effective: CONFIG GET answers {}, not {}", after, *value);
    return r;
  });
}

}  // namespace trimtab
