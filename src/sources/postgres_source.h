// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "common/config_node.h"
#include "common/pg_connection.h"
#include "common/result.h"
#include "sources/metric_source.h"
#include "sources/pg_rows.h"

namespace trimtab {

inline constexpr int kPostgresMaxTopTables = 1000;

// Reads a PostgreSQL server's activity and statistics (kind "postgres"):
// sessions by state and waiting on locks, the oldest transaction, per-database
// commits, rollbacks, cache hit ratio, deadlocks and temp bytes,
// max_connections, and the top_tables user tables by dead tuples. Names follow
// postgres_exporter (docs/metrics.md, "postgres source").
//
// collect(): a few read-only queries on one reused connection (only those
// whose metrics some policy reads), bounded by the source's timeout
// (connect_timeout, statement_timeout and a watchdog). A failed connection
// fails the collection and is re-opened on a later collect, after a backoff
// capped by reconnect_backoff_max.
//
// Settings: dsn, password | password_file, application_name, top_tables,
// reconnect_backoff_max (docs/config.md). The factory does no I/O.
class PostgresSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  PostgresSource(SourceSpec spec, PgOptions options, int topTables);

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  SourceSpec spec_;
  PgConnection connection_;
  int topTables_;
};

// The parsers behind collect(), on plain tables (tests feed them rows).
namespace postgres_rows {
// Columns state, n, waiting: pg_stat_activity_count{state} (every common
// state present, 0 when absent) and pg_stat_activity_waiting_on_locks.
void addActivity(const PgTable& table, RowSink& sink);
// Columns max_tx, max_idle_tx (seconds).
void addAges(const PgTable& table, RowSink& sink);
// pg_stat_database columns, one row per database (label datname), plus
// pg_stat_database_blks_hit_ratio when any block was read.
void addDatabases(const PgTable& table, RowSink& sink);
// Columns name, setting of pg_settings: pg_settings_<name>.
void addSettings(const PgTable& table, RowSink& sink);
// pg_stat_user_tables columns (labels schemaname, relname).
void addTables(const PgTable& table, RowSink& sink);
}  // namespace postgres_rows

}  // namespace trimtab
