// SPDX-License-Identifier: Apache-2.0
#include "sources/postgres_source.h"

#include <algorithm>
#include <array>
#include <chrono>

#include <pqxx/nontransaction>

#include "sources/server_source_params.h"
#include "sources/source_params.h"

namespace trimtab {

TRIMTAB_REGISTER(SourceRegistry, "postgres", PostgresSource::create);

namespace {

using MT = MetricType;

constexpr std::string_view kActivityCount = "pg_stat_activity_count";
constexpr std::string_view kWaitingOnLocks = "pg_stat_activity_waiting_on_locks";
constexpr std::array<std::string_view, 4> kCommonStates = {"active", "idle", "idle in transaction",
                                                           "idle in transaction (aborted)"};

constexpr std::array kActivityMetrics = {
    ColumnMetric{"n", kActivityCount, MT::Gauge},
    ColumnMetric{"waiting", kWaitingOnLocks, MT::Gauge},
};
constexpr std::array kAgeMetrics = {
    ColumnMetric{"max_tx", "pg_stat_activity_max_tx_duration", MT::Gauge},
    ColumnMetric{"max_idle_tx", "pg_stat_activity_max_idle_in_transaction_duration", MT::Gauge},
};
constexpr std::array kDatabaseLabels = {ColumnLabel{"datname", "datname"}};
constexpr std::array kDatabaseMetrics = {
    ColumnMetric{"numbackends", "pg_stat_database_numbackends", MT::Gauge},
    ColumnMetric{"xact_commit", "pg_stat_database_xact_commit", MT::Counter},
    ColumnMetric{"xact_rollback", "pg_stat_database_xact_rollback", MT::Counter},
    ColumnMetric{"blks_read", "pg_stat_database_blks_read", MT::Counter},
    ColumnMetric{"blks_hit", "pg_stat_database_blks_hit", MT::Counter},
    ColumnMetric{"deadlocks", "pg_stat_database_deadlocks", MT::Counter},
    ColumnMetric{"temp_bytes", "pg_stat_database_temp_bytes", MT::Counter},
    ColumnMetric{"temp_files", "pg_stat_database_temp_files", MT::Counter},
    ColumnMetric{"blks_hit_ratio", "pg_stat_database_blks_hit_ratio", MT::Gauge},  // computed
};
constexpr std::array kSettingMetrics = {
    ColumnMetric{"max_connections", "pg_settings_max_connections", MT::Gauge},
    ColumnMetric{"superuser_reserved_connections", "pg_settings_superuser_reserved_connections", MT::Gauge},
};
constexpr std::array kTableLabels = {ColumnLabel{"schemaname", "schemaname"}, ColumnLabel{"relname", "relname"}};
constexpr std::array kTableMetrics = {
    ColumnMetric{"n_dead_tup", "pg_stat_user_tables_n_dead_tup", MT::Gauge},
    ColumnMetric{"n_live_tup", "pg_stat_user_tables_n_live_tup", MT::Gauge},
};

// Client sessions only; trimtab's own session is not "activity" to tune.
constexpr const char* kActivitySql =
    "SELECT coalesce(state, 'unknown') AS state, count(*) AS n, "
    "count(*) FILTER (WHERE wait_event_type = 'Lock') AS waiting "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() GROUP BY 1";
constexpr const char* kAgesSql =
    "SELECT coalesce(max(extract(epoch FROM now() - xact_start)), 0) AS max_tx, "
    "coalesce(max(extract(epoch FROM now() - state_change)) FILTER (WHERE state IN "
    "('idle in transaction', 'idle in transaction (aborted)')), 0) AS max_idle_tx "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()";
constexpr const char* kDatabasesSql =
    "SELECT d.datname, d.numbackends, d.xact_commit, d.xact_rollback, d.blks_read, d.blks_hit, d.deadlocks, "
    "d.temp_bytes, d.temp_files FROM pg_stat_database d JOIN pg_database b ON b.oid = d.datid "
    "WHERE NOT b.datistemplate";
constexpr const char* kSettingsSql =
    "SELECT name, setting FROM pg_settings WHERE name IN ('max_connections', 'superuser_reserved_connections')";
constexpr const char* kTablesSql =
    "SELECT schemaname, relname, n_dead_tup, n_live_tup FROM pg_stat_user_tables "
    "ORDER BY n_dead_tup DESC, schemaname, relname LIMIT $1";

}  // namespace

namespace postgres_rows {

void addActivity(const PgTable& table, RowSink& sink) {
  int state = table.column("state");
  int n = table.column("n");
  int waiting = table.column("waiting");
  if (state < 0 || n < 0 || waiting < 0) {
    sink.warnings.push_back("pg_stat_activity: expected columns state, n, waiting");
    return;
  }
  double totalWaiting = 0;
  std::vector<std::string> seen;
  for (const auto& row : table.rows) {
    if (row.size() != table.columns.size() || !row[static_cast<std::size_t>(state)]) continue;
    const std::string& s = *row[static_cast<std::size_t>(state)];
    double count = 0, w = 0;
    if (!cellNumber(row[static_cast<std::size_t>(n)], count) || !cellNumber(row[static_cast<std::size_t>(waiting)], w)) {
      sink.warnings.push_back("pg_stat_activity: state '" + s + "': expected numbers");
      continue;
    }
    seen.push_back(s);
    totalWaiting += w;
    sink.add(kActivityCount, MT::Gauge, count, {{"state", s}});
  }
  for (auto s : kCommonStates)
    if (std::find(seen.begin(), seen.end(), s) == seen.end()) sink.add(kActivityCount, MT::Gauge, 0, {{"state", s}});
  sink.add(kWaitingOnLocks, MT::Gauge, totalWaiting, {});
}

void addAges(const PgTable& table, RowSink& sink) { addTableSamples("pg_stat_activity ages", table, {}, kAgeMetrics, sink); }

void addDatabases(const PgTable& table, RowSink& sink) {
  addTableSamples("pg_stat_database", table, kDatabaseLabels, std::span(kDatabaseMetrics).first(kDatabaseMetrics.size() - 1), sink);
  int name = table.column("datname"), hit = table.column("blks_hit"), read = table.column("blks_read");
  if (name < 0 || hit < 0 || read < 0) return;
  for (const auto& row : table.rows) {
    if (row.size() != table.columns.size() || !row[static_cast<std::size_t>(name)]) continue;
    double h = 0, r = 0;
    if (!cellNumber(row[static_cast<std::size_t>(hit)], h) || !cellNumber(row[static_cast<std::size_t>(read)], r)) continue;
    if (h + r <= 0) continue;  // no block read yet: the ratio means nothing
    sink.add(kDatabaseMetrics.back().metric, MT::Gauge, h / (h + r), {{"datname", *row[static_cast<std::size_t>(name)]}});
  }
}

void addSettings(const PgTable& table, RowSink& sink) {
  int name = table.column("name"), setting = table.column("setting");
  if (name < 0 || setting < 0) {
    sink.warnings.push_back("pg_settings: expected columns name, setting");
    return;
  }
  for (const auto& row : table.rows) {
    if (row.size() != table.columns.size() || !row[static_cast<std::size_t>(name)]) continue;
    for (const auto& m : kSettingMetrics) {
      if (m.column != *row[static_cast<std::size_t>(name)]) continue;
      double v = 0;
      if (cellNumber(row[static_cast<std::size_t>(setting)], v)) sink.add(m.metric, m.type, v, {});
    }
  }
}

void addTables(const PgTable& table, RowSink& sink) {
  addTableSamples("pg_stat_user_tables", table, kTableLabels, kTableMetrics, sink);
}

}  // namespace postgres_rows

Result<std::unique_ptr<MetricSource>> PostgresSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  PgOptions options;
  readPgOptions(params, options, [&](const std::string& p) { return check.resolvePath(p); });
  options.connectTimeout = spec.timeout;
  options.queryTimeout = spec.timeout;
  options.guard = readSourceGuard(params, spec);
  std::int64_t top = params.getInteger("top_tables", 10);
  if (top < 0 || top > kPostgresMaxTopTables)
    params.error("top_tables", "expected an integer from 0 to " + std::to_string(kPostgresMaxTopTables));
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<PostgresSource>(spec, std::move(options), static_cast<int>(top)));
}

PostgresSource::PostgresSource(SourceSpec spec, PgOptions options, int topTables)
    : spec_(std::move(spec)), connection_(std::move(options)), topTables_(topTables) {}

CollectResult PostgresSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  CollectResult out;
  RowSink sink{filter, out.batch, out.warnings};
  const bool activity = anyWanted(filter, kActivityMetrics);
  const bool ages = anyWanted(filter, kAgeMetrics);
  const bool databases = anyWanted(filter, kDatabaseMetrics);
  const bool settings = anyWanted(filter, kSettingMetrics);
  const bool tables = topTables_ > 0 && anyWanted(filter, kTableMetrics);
  out.status = connection_.run([&](pqxx::connection& c) {
    // A reused connection found closed runs this again on a fresh one: start
    // from nothing, or the first try's rows would be there twice.
    out.batch.clear();
    out.warnings.clear();
    sink.skipped = 0;
    pqxx::nontransaction tx(c, "trimtab_collect");
    // An empty filter still checks the server is up.
    if (!(activity || ages || databases || settings || tables)) tx.exec("SELECT 1");
    if (activity) postgres_rows::addActivity(toPgTable(tx.exec(kActivitySql)), sink);
    if (ages) postgres_rows::addAges(toPgTable(tx.exec(kAgesSql)), sink);
    if (databases) postgres_rows::addDatabases(toPgTable(tx.exec(kDatabasesSql)), sink);
    if (settings) postgres_rows::addSettings(toPgTable(tx.exec(kSettingsSql)), sink);
    if (tables) postgres_rows::addTables(toPgTable(tx.exec_params(kTablesSql, topTables_)), sink);
  });
  out.skippedSamples = sink.skipped;
  if (!out.status.ok()) out.batch.clear();
  out.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace trimtab
