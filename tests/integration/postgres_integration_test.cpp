// SPDX-License-Identifier: Apache-2.0
// The postgres source and actuators against a real PostgreSQL 15 (scripts/services).
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "server_builders.h"
#include "services_env.h"

namespace trimtab::integration {
namespace {

// trimtab connects as the superuser: it terminates and vacuums others' work.
std::string pgYaml(const Services& s) {
  return "dsn: 'host=" + s["PG_HOST"] + " port=" + s["PG_PORT"] + " dbname=app user=postgres'\npassword: env:PG_PASSWORD\n";
}

// A session opened by the test, as an application would hold it.
struct Session {
  Session(const std::string& dsn, const std::string& app, bool inTransaction)
      : conn(dsn + " application_name=" + app) {
    if (inTransaction) {
      tx = std::make_unique<pqxx::work>(conn);
      tx->exec("SELECT 1");
    }
  }
  // Whether the session still answers.
  bool alive() {
    try {
      if (tx) {
        tx->exec("SELECT 1");
      } else {
        pqxx::nontransaction n(conn);
        n.exec("SELECT 1");
      }
      return true;
    } catch (const std::exception&) {
      return false;
    }
  }
  pqxx::connection conn;
  std::unique_ptr<pqxx::work> tx;
};

}  // namespace

TEST_CASE("postgres: activity, database statistics and settings of a real server") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("postgres", pgYaml(*s));
  auto m = collectMap(*source);
  REQUIRE(!m.empty());
  CHECK(valueOr(m, "pg_settings_max_connections") == 100);
  CHECK(valueOr(m, "pg_stat_database_xact_commit{datname=\"app\"}") > 0);
  CHECK(m.count("pg_stat_activity_count{state=\"idle in transaction\"}") == 1);
  CHECK(m.count("pg_stat_activity_waiting_on_locks") == 1);
  CHECK(m.count("pg_stat_activity_max_tx_duration") == 1);
  CHECK(valueOr(m, "pg_stat_database_blks_hit_ratio{datname=\"postgres\"}", 0.5) <= 1);
}

TEST_CASE("postgres: idle-in-transaction sessions opened by the test are terminated, others are not") {
  TRIMTAB_REQUIRE_SERVICES(s);
  const std::string app = (*s)["PG_APP_DSN"];
  const std::string super = (*s)["PG_DSN"];
  constexpr double kThreshold = 2;
  Session victim1(app, "victim", true);
  Session victim2(app, "victim", true);
  Session bystander(app, "bystander", true);   // another application
  Session superuser(super, "victim", true);    // a superuser's: never
  Session idleVictim(app, "victim", false);    // idle, not in a transaction: not in `states`
  sleepFor(kThreshold + 0.5);
  Session young(app, "victim", true);          // younger than the threshold

  auto source = makeSource("postgres", pgYaml(*s));
  auto m = collectMap(*source);
  CHECK(valueOr(m, "pg_stat_activity_count{state=\"idle in transaction\"}") >= 5);
  CHECK(valueOr(m, "pg_stat_activity_max_idle_in_transaction_duration") >= kThreshold);

  auto actuator = makeActuator("postgres_terminate_idle", pgYaml(*s) + "application_names: [victim]\n");
  ActuationOutcome o = actuator->apply(change(kThreshold));
  REQUIRE_MESSAGE(o.ok, o.detail);
  CHECK(o.effective);
  CHECK(o.detail.find("terminated 2 sessions") != std::string::npos);
  MESSAGE(o.detail);
  CHECK(!victim1.alive());
  CHECK(!victim2.alive());
  CHECK(bystander.alive());
  CHECK(superuser.alive());
  CHECK(idleVictim.alive());
  CHECK(young.alive());

  // The same apply again finds nobody left.
  o = actuator->apply(change(kThreshold));
  CHECK(o.detail.find("terminated 0 sessions") != std::string::npos);
}

TEST_CASE("postgres: terminate_idle never ends trimtab's other connections, idle between two scrapes") {
  TRIMTAB_REQUIRE_SERVICES(s);
  // A postgres source connected as the application's (non-superuser) role.
  auto source = makeSource("postgres", "dsn: 'host=" + (*s)["PG_HOST"] + " port=" + (*s)["PG_PORT"] +
                                           " dbname=app user=app_user'\npassword: env:PG_APP_PASSWORD\n");
  REQUIRE(!collectMap(*source).empty());  // its connection now idles until the next scrape
  Session worker((*s)["PG_APP_DSN"], "worker", false);
  sleepFor(1.5);
  auto actuator =
      makeActuator("postgres_terminate_idle", pgYaml(*s) + "users: [app_user]\nstates: [idle]\nmax_per_apply: 10\n");
  ActuationOutcome o = actuator->apply(change(1));
  REQUIRE_MESSAGE(o.ok, o.detail);
  MESSAGE(o.detail);
  CHECK(o.detail.find("terminated 1 session") != std::string::npos);  // the worker only
  CHECK(o.detail.find(", trimtab)") == std::string::npos);
  CHECK(!worker.alive());
}

TEST_CASE("postgres: VACUUM (ANALYZE) of the tables above a dead-tuple threshold, quoted names") {
  TRIMTAB_REQUIRE_SERVICES(s);
  pqxx::connection c((*s)["PG_DSN"]);
  {
    pqxx::nontransaction n(c);
    n.exec("DROP TABLE IF EXISTS \"Weird \"\"Name\", bystander");
    n.exec("DROP SCHEMA IF EXISTS evil CASCADE");
    n.exec("CREATE SCHEMA evil");
    n.exec("CREATE TABLE \"Weird \"\"Name\" (id int) WITH (autovacuum_enabled = false)");
    n.exec("CREATE TABLE bystander (id int) WITH (autovacuum_enabled = false)");
    // Named like the allowlist's qualified entry, in another schema: not listed.
    n.exec("CREATE TABLE evil.\"public.Weird \"\"Name\" (id int) WITH (autovacuum_enabled = false)");
    for (const char* table : {"\"Weird \"\"Name\"", "bystander", "evil.\"public.Weird \"\"Name\""}) {
      n.exec(std::string("INSERT INTO ") + table + " SELECT generate_series(1, 10000)");
      n.exec(std::string("DELETE FROM ") + table + " WHERE id <= 6000");
    }
    n.exec("SELECT pg_stat_force_next_flush()");
  }
  auto source = makeSource("postgres", pgYaml(*s));
  const std::string weird = "pg_stat_user_tables_n_dead_tup{relname=\"Weird \\\"Name\",schemaname=\"public\"}";
  const std::string other = "pg_stat_user_tables_n_dead_tup{relname=\"bystander\",schemaname=\"public\"}";
  const std::string lookalike =
      "pg_stat_user_tables_n_dead_tup{relname=\"public.Weird \\\"Name\",schemaname=\"evil\"}";
  REQUIRE(eventually(10, [&] { return valueOr(collectMap(*source), weird) >= 6000; }));

  REQUIRE(eventually(10, [&] { return valueOr(collectMap(*source), lookalike) >= 6000; }));
  auto actuator = makeActuator("postgres_vacuum",
                               pgYaml(*s) + "tables: ['public.Weird \"Name']\nmax_tables_per_apply: 5\ntimeout: 60s\n");
  ActuationOutcome o = actuator->apply(change(1000));
  REQUIRE_MESSAGE(o.ok, o.detail);
  CHECK(o.effective);
  CHECK(o.detail.find("vacuumed \"public\".\"Weird \"\"Name\" (6000 dead)") != std::string::npos);
  auto m = collectMap(*source);
  CHECK(valueOr(m, weird) == 0);
  CHECK(valueOr(m, other) >= 6000);      // not in `tables`
  CHECK(valueOr(m, lookalike) >= 6000);  // its name is the entry, but its schema is not
  CHECK(o.detail.find("evil") == std::string::npos);
  pqxx::nontransaction n(c);
  CHECK(n.exec("SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE relname = 'Weird \"Name'")[0][0].as<bool>());
  n.exec("DROP TABLE \"Weird \"\"Name\", bystander");
  n.exec("DROP SCHEMA evil CASCADE");
}

TEST_CASE("postgres: ALTER SYSTEM SET of an allowlisted setting, reloaded and verified") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto actuator = makeActuator("postgres_setting", pgYaml(*s) + "setting: work_mem\n");
  ActuationOutcome o = actuator->apply(change(8192));
  REQUIRE_MESSAGE(o.ok, o.detail);
  CHECK(o.effective);
  CHECK(o.detail.find("work_mem = 8192 kB") != std::string::npos);
  {
    pqxx::connection fresh((*s)["PG_APP_DSN"]);
    pqxx::nontransaction n(fresh);
    CHECK(n.exec("SHOW work_mem")[0][0].as<std::string>() == "8MB");
  }
  auto cost = makeActuator("postgres_setting", pgYaml(*s) + "setting: random_page_cost\n");
  o = cost->apply(change(1.1));
  CHECK(o.effective);
  o = actuator->apply(change(1.5));  // an integer setting refuses a fraction
  CHECK(!o.ok);
  CHECK(o.attempts == 1);

  // statement_timeout: the actuator's own session sets it on connect (its
  // query timeout), so pg_settings never shows the reload there; the file's
  // entry is checked instead, and a fresh session sees the new value.
  auto timeout = makeActuator("postgres_setting", pgYaml(*s) + "setting: statement_timeout\n");
  o = timeout->apply(change(45000));
  REQUIRE_MESSAGE(o.ok, o.detail);
  CHECK_MESSAGE(o.effective, o.detail);
  CHECK(o.detail.find("checked in pg_file_settings") != std::string::npos);
  {
    pqxx::connection fresh((*s)["PG_APP_DSN"]);
    pqxx::nontransaction n(fresh);
    CHECK(n.exec("SHOW statement_timeout")[0][0].as<std::string>() == "45s");
  }

  pqxx::connection c((*s)["PG_DSN"]);
  pqxx::nontransaction n(c);
  n.exec("ALTER SYSTEM RESET work_mem");
  n.exec("ALTER SYSTEM RESET random_page_cost");
  n.exec("ALTER SYSTEM RESET statement_timeout");
  n.exec("SELECT pg_reload_conf()");
}

TEST_CASE("postgres: killed mid-run, the source fails without crashing and recovers after the restart") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("postgres", pgYaml(*s) + "reconnect_backoff_max: 200ms\n", 2, 0.5);
  REQUIRE(!collectMap(*source).empty());
  REQUIRE(s->run("kill", "postgres"));
  std::string error;
  CHECK(collectMap(*source, &error).empty());
  CHECK(error.find("postgres 127.0.0.1:") == 0);
  CHECK(error.find((*s)["PG_PASSWORD"]) == std::string::npos);
  CHECK(collectMap(*source, &error).empty());  // refused again (or backing off): still no crash

  REQUIRE(s->run("start", "postgres"));
  CHECK(recoversWithinTwoIntervals(*source, 0.5));
}

}  // namespace trimtab::integration
