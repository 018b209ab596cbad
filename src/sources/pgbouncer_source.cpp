// SPDX-License-Identifier: Apache-2.0
#include "sources/pgbouncer_source.h"

#include <array>
#include <chrono>


#include "sources/server_source_params.h"
#include "sources/source_params.h"

namespace trimtab {

TRIMTAB_REGISTER(SourceRegistry, "pgbouncer", PgbouncerSource::create);

namespace {

using MT = MetricType;
constexpr double kMicros = 1e-6;
constexpr std::string_view kAdminDatabase = "pgbouncer";

constexpr std::array kPoolLabels = {ColumnLabel{"database", "database"}, ColumnLabel{"user", "user"}};
constexpr std::array kPoolMetrics = {
    ColumnMetric{"cl_active", "pgbouncer_pools_client_active_connections", MT::Gauge},
    ColumnMetric{"cl_waiting", "pgbouncer_pools_client_waiting_connections", MT::Gauge},
    ColumnMetric{"sv_active", "pgbouncer_pools_server_active_connections", MT::Gauge},
    ColumnMetric{"sv_idle", "pgbouncer_pools_server_idle_connections", MT::Gauge},
    ColumnMetric{"sv_used", "pgbouncer_pools_server_used_connections", MT::Gauge},
    ColumnMetric{"sv_tested", "pgbouncer_pools_server_testing_connections", MT::Gauge},
    ColumnMetric{"sv_login", "pgbouncer_pools_server_login_connections", MT::Gauge},
};
constexpr std::string_view kMaxwait = "pgbouncer_pools_client_maxwait_seconds";

constexpr std::array kStatsLabels = {ColumnLabel{"database", "database"}};
constexpr std::array kStatsMetrics = {
    ColumnMetric{"total_xact_count", "pgbouncer_stats_sql_transactions_pooled_total", MT::Counter},
    ColumnMetric{"total_query_count", "pgbouncer_stats_queries_pooled_total", MT::Counter},
    ColumnMetric{"total_received", "pgbouncer_stats_received_bytes_total", MT::Counter},
    ColumnMetric{"total_sent", "pgbouncer_stats_sent_bytes_total", MT::Counter},
    ColumnMetric{"total_xact_time", "pgbouncer_stats_sql_transactions_duration_seconds_total", MT::Counter, kMicros},
    ColumnMetric{"total_query_time", "pgbouncer_stats_queries_duration_seconds_total", MT::Counter, kMicros},
    ColumnMetric{"total_wait_time", "pgbouncer_stats_client_wait_seconds_total", MT::Counter, kMicros},
    ColumnMetric{"avg_xact_time", "pgbouncer_stats_avg_xact_time_seconds", MT::Gauge, kMicros},
    ColumnMetric{"avg_query_time", "pgbouncer_stats_avg_query_time_seconds", MT::Gauge, kMicros},
    ColumnMetric{"avg_wait_time", "pgbouncer_stats_avg_wait_time_seconds", MT::Gauge, kMicros},
};

constexpr std::array kDatabaseLabels = {ColumnLabel{"name", "database"}};
constexpr std::array kDatabaseMetrics = {
    ColumnMetric{"pool_size", "pgbouncer_databases_pool_size", MT::Gauge},
    ColumnMetric{"reserve_pool", "pgbouncer_databases_reserve_pool", MT::Gauge},
    ColumnMetric{"max_connections", "pgbouncer_databases_max_connections", MT::Gauge},
    ColumnMetric{"current_connections", "pgbouncer_databases_current_connections", MT::Gauge},
    ColumnMetric{"paused", "pgbouncer_databases_paused", MT::Gauge},
    ColumnMetric{"disabled", "pgbouncer_databases_disabled", MT::Gauge},
};

// SHOW CONFIG key -> metric.
constexpr std::array kConfigMetrics = {
    ColumnMetric{"default_pool_size", "pgbouncer_config_default_pool_size", MT::Gauge},
    ColumnMetric{"min_pool_size", "pgbouncer_config_min_pool_size", MT::Gauge},
    ColumnMetric{"reserve_pool_size", "pgbouncer_config_reserve_pool_size", MT::Gauge},
    ColumnMetric{"max_client_conn", "pgbouncer_config_max_client_connections", MT::Gauge},
    ColumnMetric{"max_db_connections", "pgbouncer_config_max_db_connections", MT::Gauge},
    ColumnMetric{"max_user_connections", "pgbouncer_config_max_user_connections", MT::Gauge},
};

}  // namespace

namespace pgbouncer_rows {

PgTable withoutAdminDatabase(PgTable table, std::string_view databaseColumn) {
  int db = table.column(databaseColumn);
  if (db < 0) return table;
  std::erase_if(table.rows, [&](const auto& row) {
    return static_cast<int>(row.size()) > db && row[static_cast<std::size_t>(db)] == kAdminDatabase;
  });
  return table;
}

void addPools(const PgTable& t, RowSink& sink) {
  addTableSamples("SHOW POOLS", t, kPoolLabels, kPoolMetrics, sink);
  // maxwait is split in whole seconds and microseconds (pgbouncer 1.8+).
  int db = t.column("database"), user = t.column("user"), s = t.column("maxwait"), us = t.column("maxwait_us");
  if (db < 0 || user < 0 || s < 0) return;
  for (const auto& row : t.rows) {
    if (row.size() != t.columns.size()) continue;
    double seconds = 0, micros = 0;
    if (!cellNumber(row[static_cast<std::size_t>(s)], seconds)) continue;
    if (us >= 0) cellNumber(row[static_cast<std::size_t>(us)], micros);
    sink.add(kMaxwait, MT::Gauge, seconds + micros * kMicros,
             {{"database", row[static_cast<std::size_t>(db)].value_or("")},
              {"user", row[static_cast<std::size_t>(user)].value_or("")}});
  }
}

void addStats(const PgTable& t, RowSink& sink) { addTableSamples("SHOW STATS", t, kStatsLabels, kStatsMetrics, sink); }

void addDatabases(const PgTable& t, RowSink& sink) {
  addTableSamples("SHOW DATABASES", t, kDatabaseLabels, kDatabaseMetrics, sink);
}

std::string configValue(const PgTable& t, std::string_view key) {
  int k = t.column("key"), v = t.column("value");
  if (k < 0 || v < 0) return "";
  for (const auto& row : t.rows)
    if (row.size() == t.columns.size() && row[static_cast<std::size_t>(k)] == key)
      return row[static_cast<std::size_t>(v)].value_or("");
  return "";
}

void addConfig(const PgTable& t, RowSink& sink) {
  if (t.column("key") < 0 || t.column("value") < 0) {
    sink.warnings.push_back("SHOW CONFIG: expected columns key, value");
    return;
  }
  for (const auto& m : kConfigMetrics) {
    std::string value = configValue(t, m.column);
    double v = 0;
    if (value.empty()) continue;
    if (!cellNumber(value, v)) {
      sink.warnings.push_back("SHOW CONFIG: " + std::string(m.column) + ": expected a number, got '" + value + "'");
      continue;
    }
    sink.add(m.metric, m.type, v, {});
  }
}

}  // namespace pgbouncer_rows

Result<std::unique_ptr<MetricSource>> PgbouncerSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  PgOptions options;
  readPgOptions(params, options, [&](const std::string& p) { return check.resolvePath(p); });
  options.adminConsole = true;
  options.connectTimeout = spec.timeout;
  options.queryTimeout = spec.timeout;
  options.guard = readSourceGuard(params, spec);
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<PgbouncerSource>(spec, std::move(options)));
}

PgbouncerSource::PgbouncerSource(SourceSpec spec, PgOptions options)
    : spec_(std::move(spec)), connection_(std::move(options)) {}

CollectResult PgbouncerSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  CollectResult out;
  RowSink sink{filter, out.batch, out.warnings};
  const bool pools = anyWanted(filter, kPoolMetrics) || filter.wants(kMaxwait);
  const bool stats = anyWanted(filter, kStatsMetrics);
  const bool databases = anyWanted(filter, kDatabaseMetrics);
  const bool config = anyWanted(filter, kConfigMetrics);
  out.status = connection_.runSimple([&](PgSimpleSession& tx) {
    // A reused connection found closed runs this again on a fresh one: start
    // from nothing, or the first try's rows would be there twice.
    out.batch.clear();
    out.warnings.clear();
    sink.skipped = 0;
    // The admin console knows no transactions nor parameters: plain statements.
    if (pools || !(stats || databases || config))
      pgbouncer_rows::addPools(pgbouncer_rows::withoutAdminDatabase(tx.exec("SHOW POOLS"), "database"), sink);
    if (stats) pgbouncer_rows::addStats(pgbouncer_rows::withoutAdminDatabase(tx.exec("SHOW STATS"), "database"), sink);
    if (databases)
      pgbouncer_rows::addDatabases(pgbouncer_rows::withoutAdminDatabase(tx.exec("SHOW DATABASES"), "name"), sink);
    if (config) pgbouncer_rows::addConfig(tx.exec("SHOW CONFIG"), sink);
  });
  out.skippedSamples = sink.skipped;
  if (!out.status.ok()) out.batch.clear();
  out.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace trimtab
