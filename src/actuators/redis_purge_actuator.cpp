// SPDX-License-Identifier: Apache-2.0
#include "actuators/redis_purge_actuator.h"

#include <fmt/format.h>

#include "actuators/actuator_support.h"
#include "sources/redis_info.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "redis_purge", RedisPurgeActuator::create);

namespace {

struct MemoryView {
  double fragmentation = 0;
  double rss = 0;
};

MemoryView readMemory(const RedisReply& info) {
  MemoryView m;
  FamilyFilter filter;
  filter.add("redis_mem_fragmentation_ratio");
  filter.add("redis_memory_used_rss_bytes");
  SampleBatch batch;
  std::vector<std::string> warnings;
  parseRedisInfo(info.str, filter, batch, warnings);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    if (batch.name(i) == "redis_mem_fragmentation_ratio") m.fragmentation = batch.entry(i).value;
    if (batch.name(i) == "redis_memory_used_rss_bytes") m.rss = batch.entry(i).value;
  }
  return m;
}

}  // namespace

Result<std::unique_ptr<Actuator>> RedisPurgeActuator::create(ConfigNode& params, const ActuatorContext&) {
  std::size_t before = actuator_support::diagnosticCount(params);
  RedisActuatorSettings settings;
  readRedisActuatorSettings(params, settings);
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return std::unique_ptr<Actuator>(std::make_unique<RedisPurgeActuator>(std::move(settings), sleepSeconds));
}

RedisPurgeActuator::RedisPurgeActuator(RedisActuatorSettings settings, std::function<void(Seconds)> sleep)
    : RedisActuatorBase(std::move(settings), std::move(sleep)) {}

ActuationOutcome RedisPurgeActuator::apply(const ActuationRequest&) {
  return guarded([&]() -> AttemptResult {
    auto replies = connection_.pipeline({{"INFO", "memory"}, {"MEMORY", "PURGE"}, {"INFO", "memory"}});
    if (!replies) return connectionFailure(replies.error());
    const RedisReply& purge = (*replies)[1];
    if (purge.isError()) return AttemptResult{false, false, false, "MEMORY PURGE refused: " + purge.str};
    MemoryView before = readMemory((*replies)[0]);
    MemoryView after = readMemory((*replies)[2]);
    return AttemptResult{true, true, false,
                         fmt::format("MEMORY PURGE: fragmentation {:.2f} -> {:.2f}, RSS {:.1f} -> {:.1f} MiB",
                                     before.fragmentation, after.fragmentation, before.rss / (1 << 20),
                                     after.rss / (1 << 20))};
  });
}

}  // namespace trimtab
