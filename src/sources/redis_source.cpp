// SPDX-License-Identifier: Apache-2.0
#include "sources/redis_source.h"

#include <chrono>
#include <exception>

#include "sources/redis_info.h"
#include "sources/server_source_params.h"
#include "sources/source_params.h"

namespace trimtab {

TRIMTAB_REGISTER(SourceRegistry, "redis", RedisSource::create);

Result<std::unique_ptr<MetricSource>> RedisSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  RedisOptions options;
  readRedisOptions(params, options, [&](const std::string& p) { return check.resolvePath(p); });
  options.timeout = spec.timeout;
  options.guard = readSourceGuard(params, spec);
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<RedisSource>(spec, std::move(options)));
}

RedisSource::RedisSource(SourceSpec spec, RedisOptions options)
    : spec_(std::move(spec)), connection_(std::move(options)) {}

CollectResult RedisSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  CollectResult out;
  try {
    auto reply = connection_.command({"INFO"});
    if (!reply) {
      out.status = reply.error();
    } else if (reply->isError()) {
      out.status = makeError(connection_.display() + ": INFO: " + reply->str);
    } else if (reply->type != RedisReply::Type::String) {
      out.status = makeError(connection_.display() + ": INFO: unexpected reply type");
    } else {
      RedisInfoStats stats = parseRedisInfo(reply->str, filter, out.batch, out.warnings);
      out.skippedSamples = stats.skipped;
      if (stats.fields == 0) out.status = makeError(connection_.display() + ": INFO: the reply has no fields");
    }
  } catch (const std::exception& e) {
    out.status = makeError(connection_.display() + ": " + e.what());
  }
  if (!out.status.ok()) out.batch.clear();
  out.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace trimtab
