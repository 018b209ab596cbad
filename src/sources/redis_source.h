// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "common/config_node.h"
#include "common/result.h"
#include "sources/metric_source.h"
#include "sources/redis_connection.h"

namespace trimtab {

// Reads a Redis server's INFO (kind "redis"): memory, stats, clients,
// persistence and keyspace, published under the names of docs/metrics.md
// ("redis source"), which follow redis_exporter's.
//
// collect(): one INFO round trip on a reused connection, bounded by the
// source's timeout on connect and on each read/write; a failed connection is
// re-opened on a later collect, after a doubling backoff capped by
// reconnect_backoff_max. Connection failures fail the collection (the series
// go stale); the password never appears in a message.
//
// Settings: url, password | password_file, username, db,
// reconnect_backoff_max (docs/config.md). The factory does no I/O.
class RedisSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  RedisSource(SourceSpec spec, RedisOptions options);

  CollectResult collect(const FamilyFilter& filter) override;

  // For tests: connects made so far.
  int connects() const { return connection_.connects(); }

 private:
  SourceSpec spec_;
  RedisConnection connection_;
};

}  // namespace trimtab
