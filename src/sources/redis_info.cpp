// SPDX-License-Identifier: Apache-2.0
#include "sources/redis_info.h"

#include <array>
#include <charconv>
#include <cmath>

namespace trimtab {

namespace {

struct FieldMetric {
  std::string_view field;
  std::string_view metric;
  MetricType type;
  double scale;
};

constexpr double kMillis = 1e-3;

// INFO field -> metric (redis_exporter's names where it has one).
constexpr std::array kFields = {
    // memory
    FieldMetric{"used_memory", "redis_memory_used_bytes", MetricType::Gauge, 1},
    FieldMetric{"used_memory_rss", "redis_memory_used_rss_bytes", MetricType::Gauge, 1},
    FieldMetric{"used_memory_peak", "redis_memory_used_peak_bytes", MetricType::Gauge, 1},
    FieldMetric{"used_memory_lua", "redis_memory_used_lua_bytes", MetricType::Gauge, 1},
    FieldMetric{"used_memory_dataset", "redis_memory_used_dataset_bytes", MetricType::Gauge, 1},
    FieldMetric{"maxmemory", "redis_memory_max_bytes", MetricType::Gauge, 1},
    FieldMetric{"mem_fragmentation_ratio", "redis_mem_fragmentation_ratio", MetricType::Gauge, 1},
    FieldMetric{"mem_fragmentation_bytes", "redis_mem_fragmentation_bytes", MetricType::Gauge, 1},
    FieldMetric{"active_defrag_running", "redis_active_defrag_running", MetricType::Gauge, 1},
    // stats
    FieldMetric{"keyspace_hits", "redis_keyspace_hits_total", MetricType::Counter, 1},
    FieldMetric{"keyspace_misses", "redis_keyspace_misses_total", MetricType::Counter, 1},
    FieldMetric{"evicted_keys", "redis_evicted_keys_total", MetricType::Counter, 1},
    FieldMetric{"expired_keys", "redis_expired_keys_total", MetricType::Counter, 1},
    FieldMetric{"total_commands_processed", "redis_commands_processed_total", MetricType::Counter, 1},
    FieldMetric{"total_connections_received", "redis_connections_received_total", MetricType::Counter, 1},
    FieldMetric{"rejected_connections", "redis_rejected_connections_total", MetricType::Counter, 1},
    FieldMetric{"total_net_input_bytes", "redis_net_input_bytes_total", MetricType::Counter, 1},
    FieldMetric{"total_net_output_bytes", "redis_net_output_bytes_total", MetricType::Counter, 1},
    FieldMetric{"instantaneous_ops_per_sec", "redis_instantaneous_ops_per_sec", MetricType::Gauge, 1},
    // clients
    FieldMetric{"connected_clients", "redis_connected_clients", MetricType::Gauge, 1},
    FieldMetric{"blocked_clients", "redis_blocked_clients", MetricType::Gauge, 1},
    FieldMetric{"maxclients", "redis_config_maxclients", MetricType::Gauge, 1},
    // persistence
    FieldMetric{"loading", "redis_loading_dump_file", MetricType::Gauge, 1},
    FieldMetric{"rdb_changes_since_last_save", "redis_rdb_changes_since_last_save", MetricType::Gauge, 1},
    FieldMetric{"rdb_bgsave_in_progress", "redis_rdb_bgsave_in_progress", MetricType::Gauge, 1},
    FieldMetric{"rdb_last_save_time", "redis_rdb_last_save_timestamp_seconds", MetricType::Gauge, 1},
    FieldMetric{"aof_enabled", "redis_aof_enabled", MetricType::Gauge, 1},
    FieldMetric{"aof_rewrite_in_progress", "redis_aof_rewrite_in_progress", MetricType::Gauge, 1},
    // server
    FieldMetric{"uptime_in_seconds", "redis_uptime_in_seconds", MetricType::Gauge, 1},
};

// db0:keys=1,expires=0,avg_ttl=0 -> these, labelled db="db0".
constexpr std::array kKeyspaceFields = {
    FieldMetric{"keys", "redis_db_keys", MetricType::Gauge, 1},
    FieldMetric{"expires", "redis_db_keys_expiring", MetricType::Gauge, 1},
    FieldMetric{"avg_ttl", "redis_db_avg_ttl_seconds", MetricType::Gauge, kMillis},
};

constexpr std::string_view kLastBgsaveStatus = "rdb_last_bgsave_status";
constexpr std::string_view kLastBgsaveMetric = "redis_rdb_last_bgsave_status";

bool parseNumber(std::string_view s, double& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool isDbName(std::string_view key) {
  if (key.size() < 3 || key.substr(0, 2) != "db") return false;
  for (char c : key.substr(2))
    if (c < '0' || c > '9') return false;
  return true;
}

class Emitter {
 public:
  Emitter(const FamilyFilter& filter, SampleBatch& out, RedisInfoStats& stats) : filter_(filter), out_(out), stats_(stats) {}
  void add(std::string_view name, MetricType type, double value, std::string_view db = {}) {
    if (!filter_.wants(name)) {
      ++stats_.skipped;
      return;
    }
    if (db.empty()) {
      out_.add(name, nullptr, 0, type, value);
    } else {
      LabelView label{"db", db};
      out_.add(name, &label, 1, type, value);
    }
  }

 private:
  const FamilyFilter& filter_;
  SampleBatch& out_;
  RedisInfoStats& stats_;
};

void parseKeyspaceLine(std::string_view db, std::string_view value, Emitter& emit, std::vector<std::string>& warnings) {
  while (!value.empty()) {
    auto comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    auto eq = item.find('=');
    if (eq == std::string_view::npos) continue;
    std::string_view key = item.substr(0, eq);
    for (const auto& f : kKeyspaceFields) {
      if (f.field != key) continue;
      double v = 0;
      if (!parseNumber(item.substr(eq + 1), v)) {
        warnings.push_back("INFO keyspace '" + std::string(db) + "': expected a number for " + std::string(key) +
                           ", got '" + std::string(item.substr(eq + 1)) + "'");
        break;
      }
      emit.add(f.metric, f.type, v * f.scale, db);
      break;
    }
  }
}

}  // namespace

RedisInfoStats parseRedisInfo(std::string_view text, const FamilyFilter& filter, SampleBatch& out,
                              std::vector<std::string>& warnings) {
  RedisInfoStats stats;
  Emitter emit(filter, out, stats);
  bool sawDb0 = false;
  while (!text.empty()) {
    auto nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    ++stats.fields;
    if (isDbName(key)) {
      sawDb0 = sawDb0 || key == "db0";
      parseKeyspaceLine(key, value, emit, warnings);
      continue;
    }
    if (key == kLastBgsaveStatus) {
      emit.add(kLastBgsaveMetric, MetricType::Gauge, value == "ok" ? 1 : 0);
      continue;
    }
    for (const auto& f : kFields) {
      if (f.field != key) continue;
      double v = 0;
      if (!parseNumber(value, v)) {
        warnings.push_back("INFO field '" + std::string(key) + "': expected a number, got '" + std::string(value) + "'");
        break;
      }
      emit.add(f.metric, f.type, v * f.scale);
      break;
    }
  }
  if (!sawDb0 && stats.fields > 0) {
    for (const auto& f : kKeyspaceFields) emit.add(f.metric, f.type, 0, "db0");
  }
  return stats;
}

}  // namespace trimtab
