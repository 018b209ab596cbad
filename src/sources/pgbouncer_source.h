// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>

#include "common/config_node.h"
#include "common/pg_connection.h"
#include "common/result.h"
#include "sources/metric_source.h"
#include "sources/pg_rows.h"

namespace trimtab {

// Reads pgbouncer's admin console (kind "pgbouncer"): SHOW POOLS, SHOW STATS,
// SHOW DATABASES and SHOW CONFIG, published under prometheus-community
// pgbouncer_exporter's names where it has them (docs/metrics.md, "pgbouncer
// source"): pgbouncer_pools_client_waiting_connections{database,user}, ...
//
// The admin console speaks only the simple query protocol: every command is
// a plain statement (libpq PQexec), never a prepared statement, and no
// startup options are sent (a watchdog bounds each call instead of
// statement_timeout). The pgbouncer admin pool itself (database
// "pgbouncer") is left out.
//
// Settings: dsn (dbname=pgbouncer), password | password_file,
// application_name, reconnect_backoff_max. The factory does no I/O.
class PgbouncerSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  PgbouncerSource(SourceSpec spec, PgOptions options);

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  SourceSpec spec_;
  PgConnection connection_;
};

// The parsers behind collect(), on plain tables (tests feed them rows).
namespace pgbouncer_rows {
void addPools(const PgTable& showPools, RowSink& sink);
void addStats(const PgTable& showStats, RowSink& sink);
void addDatabases(const PgTable& showDatabases, RowSink& sink);
void addConfig(const PgTable& showConfig, RowSink& sink);
// SHOW CONFIG's value of `key`, or "" when absent.
std::string configValue(const PgTable& showConfig, std::string_view key);
// Rows of the admin pool (database "pgbouncer") removed.
PgTable withoutAdminDatabase(PgTable table, std::string_view databaseColumn);
}  // namespace pgbouncer_rows

}  // namespace trimtab
