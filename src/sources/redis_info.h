// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// What one INFO reply produced.
struct RedisInfoStats {
  std::size_t fields = 0;   // key:value lines seen
  std::size_t skipped = 0;  // samples the filter did not want
};

// Turns the text of Redis's INFO reply (sections memory, stats, clients,
// persistence, server, keyspace) into samples named as in docs/metrics.md
// ("redis source"), following redis_exporter's names: used_memory ->
// redis_memory_used_bytes, keyspace_hits -> redis_keyspace_hits_total,
// db0:keys=N -> redis_db_keys{db="db0"}, ... Fields without a metric are
// ignored; a mapped field whose value is not a number becomes a warning
// "INFO field 'used_memory': expected a number, got 'x'". db0's key counts
// are published as 0 when the keyspace section does not list it (Redis omits
// empty databases). Only names `filter` wants are added.
RedisInfoStats parseRedisInfo(std::string_view text, const FamilyFilter& filter, SampleBatch& out,
                              std::vector<std::string>& warnings);

}  // namespace trimtab
