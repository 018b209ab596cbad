// SPDX-License-Identifier: Apache-2.0
// The pgbouncer source and pool size actuator against a real pgbouncer in
// front of PostgreSQL, under pgbench load (scripts/services).
#include <doctest/doctest.h>

#include <pqxx/pqxx>

#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "server_builders.h"
#include "services_env.h"

namespace trimtab::integration {
namespace {

constexpr int kClients = 16;
constexpr int kSmallPool = 2;
constexpr int kLargePool = 16;
constexpr int kShrunkPool = 4;
constexpr int kBenchSeconds = 60;  // an upper bound: the test stops pgbench when done
const std::string kPool = "{database=\"app\",user=\"app_user\"}";

std::string adminYaml(const Services& s) {
  return "dsn: 'host=127.0.0.1 port=" + s["PGBOUNCER_PORT"] + " dbname=pgbouncer user=postgres'\npassword: env:PG_PASSWORD\n";
}

// Mean of a pool's waiting clients over a few collections (the count jumps from one instant to the next).
double meanWaiting(MetricSource& source, int samples = 5) {
  std::vector<double> v;
  for (int i = 0; i < samples; ++i) {
    v.push_back(valueOr(collectMap(source), "pgbouncer_pools_client_waiting_connections" + kPool, 0));
    sleepFor(kPollStep);
  }
  return std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

// The postgres_terminate_idle actuator's connection: straight to PostgreSQL, as the superuser.
std::string postgresYaml(const Services& s) {
  return "dsn: 'host=127.0.0.1 port=" + s["PG_PORT"] + " dbname=app user=postgres'\npassword: env:PG_PASSWORD\n";
}

// Runs `SELECT 1` `times` times on a client connection to pgbouncer; returns the first error, or "".
std::string queryThroughBouncer(pqxx::connection& client, int times) {
  try {
    for (int i = 0; i < times; ++i) {
      pqxx::nontransaction tx(client);
      tx.exec("SELECT 1");
    }
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

}  // namespace

// examples/memory-cleanup.yaml terminates the app user's idle sessions; behind
// pgbouncer those include its pooled server connections. pgbouncer must drop
// one terminated while it sits in the pool, and its clients (connected all
// along, between transactions) must not see the FATAL.
TEST_CASE("pgbouncer: its pooled server connections, terminated while idle, fail no client") {
  TRIMTAB_REQUIRE_SERVICES(s);
  constexpr double kThreshold = 1;
  pqxx::connection client1((*s)["PGBOUNCER_DSN"] + " application_name=bouncer_client");
  pqxx::connection client2((*s)["PGBOUNCER_DSN"] + " application_name=bouncer_client");
  REQUIRE(queryThroughBouncer(client1, 5).empty());
  REQUIRE(queryThroughBouncer(client2, 5).empty());
  sleepFor(kThreshold + 1);  // the server connections wait in pgbouncer's pool, idle

  auto terminate = makeActuator("postgres_terminate_idle", postgresYaml(*s) + "users: [app_user]\nstates: [idle]\n");
  ActuationOutcome o = terminate->apply(change(kThreshold));
  REQUIRE_MESSAGE(o.ok, o.detail);
  MESSAGE(o.detail);
  CHECK(o.detail.find("terminated 0 sessions") == std::string::npos);  // pgbouncer's were among them
  CHECK(o.effective);

  // The same clients go on: every query is answered, on new server connections.
  CHECK_MESSAGE(queryThroughBouncer(client1, 20) == "", "client 1");
  CHECK_MESSAGE(queryThroughBouncer(client2, 20) == "", "client 2");
}

TEST_CASE("pgbouncer: pgbench with more clients than the pool; raising the pool drains the queue") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("pgbouncer", adminYaml(*s));
  auto pool = makeActuator("pgbouncer_pool_size", adminYaml(*s) + "database: app\nverify_timeout: 3s\n");
  ActuationOutcome reset = pool->apply(change(kSmallPool));
  REQUIRE_MESSAGE(reset.ok, reset.detail);

  // Each transaction holds its server connection for 20 ms: 16 clients on 2 connections must queue.
  const std::string script = s->dir() + "/pgbench_sleep.sql";
  std::ofstream(script) << "SELECT pg_sleep(0.02);\n";
  Background bench("/usr/bin/pgbench",
                   {"pgbench", "-n", "-c", std::to_string(kClients), "-j", "2", "-T", std::to_string(kBenchSeconds),
                    "-f", script, "-h", "127.0.0.1", "-p", (*s)["PGBOUNCER_PORT"], "-U", "app_user", "app"},
                   {"PGPASSWORD=" + (*s)["PG_APP_PASSWORD"], "PATH=/usr/bin:/bin"});

  REQUIRE(eventually(15, [&] { return valueOr(collectMap(*source), "pgbouncer_pools_client_waiting_connections" + kPool, 0) >= 8; }));
  const double waitingBefore = meanWaiting(*source);
  auto m = collectMap(*source);
  CHECK(valueOr(m, "pgbouncer_config_default_pool_size") == kSmallPool);
  CHECK(valueOr(m, "pgbouncer_pools_server_active_connections" + kPool, 0) +
            valueOr(m, "pgbouncer_pools_server_idle_connections" + kPool, 0) <= kSmallPool);
  CHECK(m.count("pgbouncer_stats_avg_wait_time_seconds{database=\"app\"}") == 1);
  CHECK(m.count("pgbouncer_pools_client_maxwait_seconds" + kPool) == 1);

  ActuationOutcome grow = pool->apply(change(kLargePool, kSmallPool));
  REQUIRE_MESSAGE(grow.ok, grow.detail);
  CHECK(grow.effective);
  MESSAGE(grow.detail);
  double waitingAfter = waitingBefore;
  CHECK(eventually(15, [&] {
    waitingAfter = meanWaiting(*source);
    return waitingAfter <= waitingBefore / 4;
  }));
  MESSAGE("clients waiting: " << waitingBefore << " -> " << waitingAfter);
  m = collectMap(*source);
  CHECK(valueOr(m, "pgbouncer_config_default_pool_size") == kLargePool);  // SHOW CONFIG
  CHECK(valueOr(m, "pgbouncer_databases_pool_size{database=\"app\"}") == kLargePool);
  CHECK(valueOr(m, "pgbouncer_pools_server_active_connections" + kPool, 0) > kSmallPool);

  // Shrinking under load needs RECONNECT (DESIGN.md, "Knobs"); the actuator sends it and verifies SHOW POOLS.
  ActuationOutcome shrink = pool->apply(change(kShrunkPool, kLargePool));
  REQUIRE_MESSAGE(shrink.ok, shrink.detail);
  CHECK(shrink.detail.find("RECONNECT sent") != std::string::npos);
  CHECK_MESSAGE(shrink.effective, shrink.detail);

  // The setting already lowered while the pools still hold more (by a
  // client that sent no RECONNECT): the same size applied again must still
  // reconnect, since what the pools hold decides, not the old setting.
  REQUIRE(pool->apply(change(kLargePool, kShrunkPool)).ok);
  REQUIRE(eventually(10, [&] {
    return valueOr(collectMap(*source), "pgbouncer_pools_server_active_connections" + kPool, 0) > kShrunkPool;
  }));
  auto lazy = makeActuator("pgbouncer_pool_size",
                           adminYaml(*s) + "database: app\nverify_timeout: 200ms\nreconnect_on_shrink: false\n");
  ActuationOutcome lowered = lazy->apply(change(kShrunkPool, kLargePool));
  REQUIRE_MESSAGE(lowered.ok, lowered.detail);
  ActuationOutcome again = pool->apply(change(kShrunkPool, kShrunkPool));
  REQUIRE_MESSAGE(again.ok, again.detail);
  REQUIRE_FALSE_MESSAGE(lowered.effective, lowered.detail);  // the pools still hold more than the setting
  CHECK_MESSAGE(again.detail.find("RECONNECT sent") != std::string::npos, again.detail);
  CHECK_MESSAGE(again.effective, again.detail);
  CHECK(bench.running());
  bench.stop();
  REQUIRE(pool->apply(change(kSmallPool)).ok);
}

TEST_CASE("pgbouncer: killed mid-run, the source fails without crashing and recovers after the restart") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("pgbouncer", adminYaml(*s) + "reconnect_backoff_max: 200ms\n", 2, 0.5);
  auto pool = makeActuator("pgbouncer_pool_size", adminYaml(*s) + "retries: 0\n");
  std::string error;
  REQUIRE_MESSAGE(!collectMap(*source, &error).empty(), error);
  REQUIRE(s->run("kill", "pgbouncer"));
  CHECK(collectMap(*source, &error).empty());
  CHECK(error.find("pgbouncer 127.0.0.1:" + (*s)["PGBOUNCER_PORT"] + "/pgbouncer") == 0);
  CHECK(error.find((*s)["PG_PASSWORD"]) == std::string::npos);
  CHECK(!pool->apply(change(kSmallPool)).ok);

  REQUIRE(s->run("start", "pgbouncer"));
  CHECK(recoversWithinTwoIntervals(*source, 0.5));
  CHECK(eventually(10, [&] { return pool->apply(change(kSmallPool)).ok; }));
}

}  // namespace trimtab::integration
