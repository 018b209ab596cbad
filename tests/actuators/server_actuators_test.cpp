// SPDX-License-Identifier: Apache-2.0
// The redis_*, postgres_* and pgbouncer_* actuators without real servers:
// settings checked at config time, values refused before any I/O, retries
// and the circuit breaker. The real servers are in tests/integration/.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "actuator_test_support.h"
#include "actuators/postgres_actuator_base.h"
#include "actuators/redis_app_config_actuator.h"
#include "actuators/redis_config_actuator.h"
#include "actuators/server_retry.h"
#include "../sources/test_http_server.h"

namespace trimtab {
namespace {

using testing::build;
using testing::Params;
using testing::request;

constexpr const char* kSecret = "hunter2-very-secret";

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

std::string deadRedis() { return "url: redis://127.0.0.1:" + std::to_string(testing::closedPort()) + "\n"; }
std::string deadPg() {
  return "dsn: 'host=127.0.0.1 port=" + std::to_string(testing::closedPort()) + " dbname=app user=u'\n";
}

}  // namespace

TEST_CASE("every server actuator is registered") {
  for (const char* kind : {"redis_config", "redis_ttl", "redis_purge", "redis_app_config", "postgres_terminate_idle",
                           "postgres_vacuum", "postgres_setting", "pgbouncer_pool_size"})
    CHECK_MESSAGE(ActuatorRegistry::instance().find(kind) != nullptr, kind);
}

TEST_CASE("redis_config refuses parameters outside the allowlist when the config is checked") {
  Params ok("parameter: maxmemory\n");
  CHECK(build("redis_config", ok).ok());

  Params typo("parameter: maxmemory-polcy\n");
  auto r = build("redis_config", typo);
  REQUIRE(!r.ok());
  CHECK(contains(r.error().message, "did you mean 'maxmemory-policy'"));
  CHECK(typo.mentions("parameter", "not a parameter trimtab may change"));

  for (const char* dangerous : {"save", "dir", "dbfilename", "requirepass", "rename-command", "appendonly", "bind"}) {
    Params p(std::string("parameter: ") + dangerous + "\n");
    CHECK_MESSAGE(!build("redis_config", p).ok(), dangerous);
  }
  Params values("parameter: hz\nvalues: [a]\n");
  CHECK(!build("redis_config", values).ok());
  Params badValue("parameter: maxmemory-policy\nvalues: [allkeys-lru, everything-lru]\n");
  CHECK(!build("redis_config", badValue).ok());
  Params missing("url: redis://127.0.0.1:6379\n");
  CHECK(!build("redis_config", missing).ok());
  Params badRetry("parameter: hz\nretries: 99\ntimeout: 0s\n");
  CHECK(!build("redis_config", badRetry).ok());
}

TEST_CASE("redis_config turns knob values into the parameter's literal") {
  auto literal = [](const std::string& yaml, double v) {
    Params p(yaml);
    auto o = RedisConfigActuator::parseOptions(p.node);
    REQUIRE(o.ok());
    RedisConfigActuator a(*o, [](Seconds) {});
    return a.literal(v);
  };
  CHECK(*literal("parameter: maxmemory\n", 104857600) == "104857600");
  CHECK(!literal("parameter: maxmemory\n", 1.5));
  CHECK(!literal("parameter: maxmemory\n", -1));
  CHECK(*literal("parameter: hz\n", 100) == "100");
  CHECK(!literal("parameter: hz\n", 501));
  CHECK(!literal("parameter: hz\n", NAN));
  CHECK(*literal("parameter: activedefrag\n", 1) == "yes");
  CHECK(*literal("parameter: activedefrag\n", 0) == "no");
  CHECK(*literal("parameter: maxmemory-policy\n", 1) == "allkeys-lru");
  CHECK(!literal("parameter: maxmemory-policy\n", 8));
  CHECK(*literal("parameter: maxmemory-policy\nvalues: [volatile-ttl, allkeys-lfu]\n", 1) == "allkeys-lfu");
  CHECK(!literal("parameter: maxmemory-policy\nvalues: [volatile-ttl, allkeys-lfu]\n", 0.5));
}

TEST_CASE("redis_ttl settings and values") {
  Params ok("pattern: 'cache:*'\nbatch: 100\ntime_budget: 50ms\nmode: set\n");
  CHECK(build("redis_ttl", ok).ok());
  for (const char* bad : {"batch: 1\n", "pattern: ''\n", "pattern: x\nbatch: 0\n", "pattern: x\nbatch: 100000\n",
                          "pattern: x\ntime_budget: 10s\ntimeout: 1s\n", "pattern: x\nmode: grow\n",
                          "pattern: x\nmax_keys_per_apply: 0\n"}) {
    Params p(bad);
    CHECK_MESSAGE(!build("redis_ttl", p).ok(), bad);
  }
  Params p("pattern: 'cache:*'\n" + deadRedis());
  auto a = build("redis_ttl", p);
  REQUIRE(a.ok());
  for (double v : {0.0, -5.0, 1.5, double(NAN)}) {
    ActuationOutcome o = (*a)->apply(request(v));
    CHECK(!o.ok);
    CHECK(o.attempts == 0);  // refused before any I/O
    CHECK(contains(o.detail, "TTL must be a whole number"));
  }
}

TEST_CASE("redis_app_config: field from the knob, the change message") {
  Params p("channel: app:changes\n");
  ActuatorContext context;
  context.knob = "cache_ttl";
  auto o = RedisAppConfigActuator::parseOptions(p.node, context);
  REQUIRE(o.ok());
  CHECK(o->field == "cache_ttl");
  CHECK(o->key == "app:config");
  RedisAppConfigActuator a(*o, [](Seconds) {});
  CHECK(a.message(request(300, 600)) == R"({"field":"cache_ttl","previous":600,"value":300})");
  CHECK(a.message(request(0.5, 1)) == R"({"field":"cache_ttl","previous":1,"value":0.5})");

  Params t("field: ttl\nmessage: 'set {field} to {value} ({reason})'\n");
  auto o2 = RedisAppConfigActuator::parseOptions(t.node, context);
  REQUIRE(o2.ok());
  RedisAppConfigActuator b(*o2, [](Seconds) {});
  CHECK(b.message(request(30, 60, "hit ratio high")) == "set ttl to 30 (hit ratio high)");
  Params empty("key: ''\n");
  CHECK(!build("redis_app_config", empty).ok());
}

TEST_CASE("postgres and pgbouncer actuator settings") {
  Params setting("setting: work_mem\ndsn: env:PG_DSN\n");
  CHECK(build("postgres_setting", setting).ok());
  for (const char* refused : {"shared_buffers", "max_connections", "listen_addresses", "archive_command", "wal_level"}) {
    Params p(std::string("setting: ") + refused + "\ndsn: env:PG_DSN\n");
    auto r = build("postgres_setting", p);
    REQUIRE_MESSAGE(!r.ok(), refused);
    CHECK(contains(r.error().message, "not a setting trimtab may change"));
  }
  Params typo("setting: wrk_mem\ndsn: env:PG_DSN\n");
  CHECK(contains(build("postgres_setting", typo).error().message, "did you mean 'work_mem'"));

  Params terminate("dsn: env:PG_DSN\napplication_names: [worker]\n");
  CHECK(build("postgres_terminate_idle", terminate).ok());
  Params unfiltered("dsn: env:PG_DSN\n");
  CHECK(contains(build("postgres_terminate_idle", unfiltered).error().message, "application_names or users"));
  Params badState("dsn: env:PG_DSN\nusers: [app]\nstates: [active]\n");
  CHECK(!build("postgres_terminate_idle", badState).ok());

  Params vacuum("dsn: env:PG_DSN\ntables: [public.orders, events]\n");
  CHECK(build("postgres_vacuum", vacuum).ok());
  Params badTable("dsn: env:PG_DSN\ntables: ['a.b.c']\n");
  CHECK(!build("postgres_vacuum", badTable).ok());
  // A knob that may go below 0 would have every such apply refused: check says so.
  for (const auto& [kind, settings] : {std::pair{"postgres_vacuum", "tables: [events]\n"},
                                      std::pair{"postgres_terminate_idle", "application_names: [worker]\n"}}) {
    Params below(std::string("dsn: env:PG_DSN\n") + settings);
    auto refused = build(kind, below, ActuatorContext{"k", nullptr, -5, 100});
    REQUIRE_FALSE_MESSAGE(refused.ok(), kind);
    CHECK_MESSAGE(contains(refused.error().message, "knob 'k' may go down to -5"), refused.error().message);
  }

  Params pool("dsn: env:PGBOUNCER_ADMIN_DSN\ndatabase: app\n");
  CHECK(build("pgbouncer_pool_size", pool).ok());
  Params dashed("dsn: env:PGBOUNCER_ADMIN_DSN\ndatabase: my-app.eu\n");  // sent quoted in RECONNECT
  CHECK(build("pgbouncer_pool_size", dashed).ok());
  const std::string tooLong = "database: " + std::string(64, 'a') + "\n";
  for (const char* bad : {"database: 'app; SHUTDOWN'\n", "database: pgbouncer\n", "verify_timeout: 10s\ntimeout: 5s\n",
                          tooLong.c_str()}) {
    Params p(std::string("dsn: env:X\n") + bad);
    CHECK_MESSAGE(!build("pgbouncer_pool_size", p).ok(), bad);
  }
  // The verification runs inside the query's timeout.
  Params slowVerify("dsn: env:PG_DSN\nsetting: work_mem\ntimeout: 1s\n");  // verify_timeout 2 s by default
  CHECK(contains(build("postgres_setting", slowVerify).error().message, "verify_timeout: expected less than the timeout"));
  Params literalPassword(std::string("dsn: 'host=h password=") + kSecret + "'\nsetting: work_mem\n");
  auto r = build("postgres_setting", literalPassword);
  REQUIRE(!r.ok());
  CHECK(!contains(r.error().message, kSecret));
}

TEST_CASE("pgbouncer_pool_size refuses sizes before any I/O") {
  Params p(deadPg());
  auto a = build("pgbouncer_pool_size", p);
  REQUIRE(a.ok());
  for (double v : {0.0, 2.5, 20000.0}) {
    ActuationOutcome o = (*a)->apply(request(v));
    CHECK(!o.ok);
    CHECK(o.attempts == 0);
  }
}

TEST_CASE("text arrays for bound parameters are escaped") {
  CHECK(pgTextArray({}) == "{}");
  CHECK(pgTextArray({"a", "b c", "q\"uote", "back\\slash", "{x},"}) == R"({"a","b c","q\"uote","back\\slash","{x},"})");
}

TEST_CASE("runGuarded: retries with doubling backoff, only when retryable; the breaker opens and half-opens") {
  Seconds now = 0;
  ServerRetryOptions o;
  o.retries = 2;
  o.backoff = 0.5;
  o.breakerFailures = 2;
  o.breakerOpen = 10;
  GuardOptions g = breakerOptions(o);
  ServerGuard breaker(g, [&] { return now; });
  std::vector<Seconds> sleeps;
  auto sleep = [&](Seconds s) { sleeps.push_back(s); };
  int calls = 0;
  auto retryable = [&] {
    ++calls;
    return AttemptResult{false, false, true, "connection refused"};
  };
  ActuationOutcome out = runGuarded(breaker, "redis x", o, retryable, sleep);
  CHECK(!out.ok);
  CHECK(out.attempts == 3);
  CHECK(sleeps == std::vector<Seconds>{0.5, 1.0});
  CHECK(out.detail == "connection refused (3 attempts)");

  calls = 0;
  out = runGuarded(breaker, "redis x", o, [&] {
    ++calls;
    return AttemptResult{false, false, false, "ERR refused"};
  }, sleep);
  CHECK(calls == 1);
  CHECK(contains(out.detail, "circuit opened for 10s"));

  calls = 0;
  out = runGuarded(breaker, "redis x", o, retryable, sleep);
  CHECK(calls == 0);
  CHECK(contains(out.detail, "circuit open"));

  now = 10;  // half-open: one attempt, no retries
  out = runGuarded(breaker, "redis x", o, retryable, sleep);
  CHECK(calls == 1);
  CHECK(out.attempts == 1);
  now = 20;
  out = runGuarded(breaker, "redis x", o, [] { return AttemptResult{true, false, false, "set"}; }, sleep);
  CHECK(out.ok);
  CHECK(!out.effective);
  CHECK(!breaker.open());
}

TEST_CASE("server actuators against dead servers: retried, then the breaker; no crash, no password") {
  ::setenv("TRIMTAB_TEST_PW", kSecret, 1);
  struct Case {
    const char* kind;
    std::string yaml;
  };
  const std::string retry = "retries: 1\nbackoff: 0s\nbreaker_failures: 2\nbreaker_open: 1h\npassword: env:TRIMTAB_TEST_PW\n";
  std::vector<Case> cases = {
      {"redis_config", deadRedis() + "parameter: hz\n" + retry},
      {"redis_ttl", deadRedis() + "pattern: 'k:*'\n" + retry},
      {"redis_purge", deadRedis() + retry},
      {"redis_app_config", deadRedis() + retry},
      {"postgres_terminate_idle", deadPg() + "users: [app]\n" + retry},
      {"postgres_vacuum", deadPg() + retry},
      {"postgres_setting", deadPg() + "setting: work_mem\n" + retry},
      {"pgbouncer_pool_size", deadPg() + retry},
  };
  for (const auto& c : cases) {
    CAPTURE(c.kind);
    Params p(c.yaml);
    ActuatorContext context;
    context.knob = "k";
    auto a = build(c.kind, p, context);
    REQUIRE(a.ok());
    ActuationOutcome first = (*a)->apply(request(4, 8));
    CHECK(!first.ok);
    CHECK(first.attempts == 2);
    CHECK(contains(first.detail, "refused"));
    CHECK(!contains(first.detail, kSecret));
    ActuationOutcome second = (*a)->apply(request(4, 8));
    CHECK(contains(second.detail, "circuit opened"));
    ActuationOutcome third = (*a)->apply(request(4, 8));
    CHECK(third.attempts == 0);
    CHECK(contains(third.detail, "circuit open for"));
  }
  ::unsetenv("TRIMTAB_TEST_PW");
}

}  // namespace trimtab
