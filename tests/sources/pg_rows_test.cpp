// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <map>
#include <string>

#include "actuators/pgbouncer_pool_size_actuator.h"
#include "sources/pgbouncer_source.h"
#include "sources/postgres_source.h"

namespace trimtab {
namespace {

using Row = std::vector<std::optional<std::string>>;

// SHOW POOLS of pgbouncer 1.18, as the admin console answers it.
PgTable showPools() {
  PgTable t;
  t.columns = {"database", "user", "cl_active", "cl_waiting", "cl_active_cancel_req", "cl_waiting_cancel_req",
               "sv_active", "sv_active_cancel", "sv_being_canceled", "sv_idle", "sv_used", "sv_tested", "sv_login",
               "maxwait", "maxwait_us", "pool_mode"};
  t.rows = {Row{"app", "app_user", "2", "14", "0", "0", "2", "0", "0", "0", "0", "0", "0", "1", "250000", "transaction"},
            Row{"pgbouncer", "pgbouncer", "1", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "0", "statement"}};
  return t;
}

PgTable showStats() {
  PgTable t;
  t.columns = {"database", "total_xact_count", "total_query_count", "total_received", "total_sent", "total_xact_time",
               "total_query_time", "total_wait_time", "avg_xact_count", "avg_query_count", "avg_recv", "avg_sent",
               "avg_xact_time", "avg_query_time", "avg_wait_time"};
  t.rows = {Row{"app", "10", "20", "300", "400", "5000000", "4000000", "2000000", "1", "2", "30", "40", "904", "850", "5523"}};
  return t;
}

std::map<std::string, double> collect(void (*add)(const PgTable&, RowSink&), const PgTable& t,
                                      std::vector<std::string>& warnings, const FamilyFilter& filter = FamilyFilter::everything()) {
  SampleBatch batch;
  RowSink sink{filter, batch, warnings};
  add(t, sink);
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < batch.size(); ++i) out[std::string(batch.key(i))] = batch.entry(i).value;
  return out;
}

}  // namespace

TEST_CASE("SHOW POOLS rows become pgbouncer_exporter-named samples, admin pool left out") {
  std::vector<std::string> warnings;
  auto s = collect(pgbouncer_rows::addPools, pgbouncer_rows::withoutAdminDatabase(showPools(), "database"), warnings);
  CHECK(warnings.empty());
  const std::string labels = "{database=\"app\",user=\"app_user\"}";
  CHECK(s.at("pgbouncer_pools_client_active_connections" + labels) == 2);
  CHECK(s.at("pgbouncer_pools_client_waiting_connections" + labels) == 14);
  CHECK(s.at("pgbouncer_pools_server_active_connections" + labels) == 2);
  CHECK(s.at("pgbouncer_pools_server_idle_connections" + labels) == 0);
  CHECK(s.at("pgbouncer_pools_client_maxwait_seconds" + labels) == doctest::Approx(1.25));
  for (const auto& [key, value] : s) CHECK(key.find("pgbouncer\"") == std::string::npos);
}

TEST_CASE("SHOW STATS: microseconds become seconds") {
  std::vector<std::string> warnings;
  auto s = collect(pgbouncer_rows::addStats, showStats(), warnings);
  CHECK(warnings.empty());
  CHECK(s.at("pgbouncer_stats_avg_wait_time_seconds{database=\"app\"}") == doctest::Approx(0.005523));
  CHECK(s.at("pgbouncer_stats_avg_query_time_seconds{database=\"app\"}") == doctest::Approx(0.000850));
  CHECK(s.at("pgbouncer_stats_queries_pooled_total{database=\"app\"}") == 20);
  CHECK(s.at("pgbouncer_stats_client_wait_seconds_total{database=\"app\"}") == doctest::Approx(2.0));
}

TEST_CASE("pgbouncer rows: a missing column, a garbage cell, NULLs, a short row") {
  PgTable t = showPools();
  t.columns[3] = "cl_waiting_renamed";
  t.rows[0][2] = "lots";
  t.rows[0][6] = std::nullopt;
  t.rows.push_back(Row{"short"});
  std::vector<std::string> warnings;
  auto s = collect(pgbouncer_rows::addPools, t, warnings);
  REQUIRE(warnings.size() == 3);
  CHECK(warnings[0] == "SHOW POOLS: column 'cl_waiting' missing");
  CHECK(warnings[1] == "SHOW POOLS row 1: cl_active: expected a number, got 'lots'");
  CHECK(warnings[2] == "SHOW POOLS row 3: wrong number of cells");
  CHECK(s.count("pgbouncer_pools_server_active_connections{database=\"app\",user=\"app_user\"}") == 0);
  CHECK(s.count("pgbouncer_pools_server_idle_connections{database=\"app\",user=\"app_user\"}") == 1);

  PgTable noLabels;
  noLabels.columns = {"x"};
  noLabels.rows = {Row{"1"}};
  warnings.clear();
  s = collect(pgbouncer_rows::addPools, noLabels, warnings);
  CHECK(s.empty());
  CHECK(warnings.at(0) == "SHOW POOLS: column 'database' missing");
}

TEST_CASE("SHOW CONFIG and SHOW DATABASES") {
  PgTable config;
  config.columns = {"key", "value", "default", "changeable"};
  config.rows = {Row{"default_pool_size", "2", "20", "yes"}, Row{"max_client_conn", "200", "100", "yes"},
                 Row{"min_pool_size", "oops", "0", "yes"}, Row{"listen_addr", "127.0.0.1", "", "no"}};
  std::vector<std::string> warnings;
  auto s = collect(pgbouncer_rows::addConfig, config, warnings);
  CHECK(s.at("pgbouncer_config_default_pool_size") == 2);
  CHECK(s.at("pgbouncer_config_max_client_connections") == 200);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("min_pool_size") != std::string::npos);
  CHECK(pgbouncer_rows::configValue(config, "default_pool_size") == "2");
  CHECK(pgbouncer_rows::configValue(config, "nope").empty());

  PgTable dbs;
  dbs.columns = {"name", "host", "port", "database", "force_user", "pool_size", "min_pool_size", "reserve_pool",
                 "pool_mode", "max_connections", "current_connections", "paused", "disabled"};
  dbs.rows = {Row{"app", "127.0.0.1", "5432", "app", std::nullopt, "2", "0", "0", std::nullopt, "0", "3", "0", "0"}};
  warnings.clear();
  s = collect(pgbouncer_rows::addDatabases, dbs, warnings);
  CHECK(warnings.empty());
  CHECK(s.at("pgbouncer_databases_pool_size{database=\"app\"}") == 2);
  CHECK(s.at("pgbouncer_databases_current_connections{database=\"app\"}") == 3);
}

TEST_CASE("the pool size actuator measures the largest pool of a database") {
  PgTable t = showPools();
  t.rows.push_back(Row{"app", "other", "0", "0", "0", "0", "3", "0", "0", "4", "1", "0", "0", "0", "0", "transaction"});
  t.rows.push_back(Row{"web", "u", "0", "0", "0", "0", "20", "0", "0", "0", "0", "0", "0", "0", "0", "transaction"});
  CHECK(PgbouncerPoolSizeActuator::largestPool(t, "app") == 8);
  CHECK(PgbouncerPoolSizeActuator::largestPool(t, "") == 20);
  CHECK(PgbouncerPoolSizeActuator::largestPool(t, "none") == 0);
  CHECK(PgbouncerPoolSizeActuator::largestPool(PgTable{}, "") == 0);
}

TEST_CASE("pg_stat_activity rows: every common state, waiting on locks, ages") {
  PgTable t;
  t.columns = {"state", "n", "waiting"};
  t.rows = {Row{"active", "3", "1"}, Row{"idle in transaction", "2", "1"}, Row{"unknown", "1", "0"}};
  std::vector<std::string> warnings;
  auto s = collect(postgres_rows::addActivity, t, warnings);
  CHECK(warnings.empty());
  CHECK(s.at("pg_stat_activity_count{state=\"active\"}") == 3);
  CHECK(s.at("pg_stat_activity_count{state=\"idle in transaction\"}") == 2);
  CHECK(s.at("pg_stat_activity_count{state=\"idle\"}") == 0);
  CHECK(s.at("pg_stat_activity_count{state=\"idle in transaction (aborted)\"}") == 0);
  CHECK(s.at("pg_stat_activity_waiting_on_locks") == 2);

  PgTable ages;
  ages.columns = {"max_tx", "max_idle_tx"};
  ages.rows = {Row{"12.5", "3"}};
  s = collect(postgres_rows::addAges, ages, warnings);
  CHECK(s.at("pg_stat_activity_max_tx_duration") == 12.5);
  CHECK(s.at("pg_stat_activity_max_idle_in_transaction_duration") == 3);

  PgTable bad;
  bad.columns = {"state", "count"};
  warnings.clear();
  s = collect(postgres_rows::addActivity, bad, warnings);
  CHECK(s.empty());
  CHECK(warnings.size() == 1);
}

TEST_CASE("pg_stat_database rows and the cache hit ratio") {
  PgTable t;
  t.columns = {"datname", "numbackends", "xact_commit", "xact_rollback", "blks_read", "blks_hit", "deadlocks",
               "temp_bytes", "temp_files"};
  t.rows = {Row{"app", "4", "100", "2", "10", "90", "1", "4096", "1"}, Row{"empty", "0", "0", "0", "0", "0", "0", "0", "0"}};
  std::vector<std::string> warnings;
  auto s = collect(postgres_rows::addDatabases, t, warnings);
  CHECK(warnings.empty());
  CHECK(s.at("pg_stat_database_xact_commit{datname=\"app\"}") == 100);
  CHECK(s.at("pg_stat_database_deadlocks{datname=\"app\"}") == 1);
  CHECK(s.at("pg_stat_database_temp_bytes{datname=\"app\"}") == 4096);
  CHECK(s.at("pg_stat_database_blks_hit_ratio{datname=\"app\"}") == doctest::Approx(0.9));
  CHECK(s.count("pg_stat_database_blks_hit_ratio{datname=\"empty\"}") == 0);

  PgTable settings;
  settings.columns = {"name", "setting"};
  settings.rows = {Row{"max_connections", "100"}, Row{"superuser_reserved_connections", "3"}};
  s = collect(postgres_rows::addSettings, settings, warnings);
  CHECK(s.at("pg_settings_max_connections") == 100);

  PgTable tables;
  tables.columns = {"schemaname", "relname", "n_dead_tup", "n_live_tup"};
  tables.rows = {Row{"public", "orders", "5000", "10000"}};
  s = collect(postgres_rows::addTables, tables, warnings);
  CHECK(s.at("pg_stat_user_tables_n_dead_tup{relname=\"orders\",schemaname=\"public\"}") == 5000);
}

}  // namespace trimtab
