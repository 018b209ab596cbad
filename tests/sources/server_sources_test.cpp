// SPDX-License-Identifier: Apache-2.0
// The redis, postgres and pgbouncer sources without real servers: settings,
// refused and silent servers, reconnect backoff, credentials kept out of
// messages. The real servers are in tests/integration/.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "fake_tcp_server.h"
#include "sources/pgbouncer_source.h"
#include "sources/postgres_source.h"
#include "sources/redis_source.h"
#include "test_http_server.h"

namespace trimtab {
namespace {

using testing::closedPort;
using testing::FakeTcpServer;

constexpr const char* kSecret = "hunter2-very-secret";

struct Built {
  std::shared_ptr<ConfigDiagnostics> diagnostics = std::make_shared<ConfigDiagnostics>();
  Result<std::unique_ptr<MetricSource>> source = makeError("not built");
  std::string diagnosticsText() const { return diagnostics->format(); }
};

Built build(const std::string& kind, const std::string& yaml, Seconds timeout = 1, Seconds interval = 2) {
  Built b;
  ConfigNode node = ConfigNode::loadString(yaml, "test.yaml", b.diagnostics);
  SourceSpec spec;
  spec.name = "s";
  spec.kind = kind;
  spec.timeout = timeout;
  spec.interval = interval;
  const auto* factory = SourceRegistry::instance().find(kind);
  REQUIRE(factory);
  b.source = (*factory)(spec, node);
  return b;
}

std::string bulk(const std::string& s) { return "$" + std::to_string(s.size()) + "\r\n" + s + "\r\n"; }

bool contains(const std::string& haystack, const std::string& needle) { return haystack.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("redis source settings: URLs, secrets by reference only, unknown keys") {
  CHECK(build("redis", "url: redis://127.0.0.1:6379/1\npassword: env:REDIS_PASSWORD\n").source.ok());
  CHECK(build("redis", "{}").source.ok());  // defaults to redis://127.0.0.1:6379
  CHECK(build("redis", "url: env:REDIS_URL\npassword_file: secrets/redis\n").source.ok());

  auto b = build("redis", std::string("password: ") + kSecret + "\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.source.error().message, "env:"));
  b = build("redis", std::string("url: redis://:") + kSecret + "@127.0.0.1:6379\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.source.error().message, "holds a password"));
  CHECK(!contains(b.diagnosticsText(), kSecret));
  CHECK(!build("redis", "url: http://127.0.0.1:6379\n").source.ok());
  CHECK(!build("redis", "db: -1\n").source.ok());
  CHECK(!build("redis", "password: env:A\npassword_file: /x\n").source.ok());
  b = build("redis", "ur: redis://x:1\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.source.error().message, "did you mean 'url'"));
}

TEST_CASE("redis source: a refused connection fails the collection, then backs off without connecting") {
  int port = closedPort();
  RedisOptions o;
  o.url = *parseSecretRef("redis://127.0.0.1:" + std::to_string(port), true);
  o.timeout = 1;
  o.guard.backoffInitial = 1;
  o.guard.backoffMax = 4;
  Seconds now = 0;
  RedisConnection c(o, [&] { return now; });
  auto r = c.command({"PING"});
  REQUIRE(!r);
  CHECK(r.error().message == "redis 127.0.0.1:" + std::to_string(port) + ": connect: Connection refused");
  CHECK(c.connects() == 1);
  r = c.command({"PING"});
  REQUIRE(!r);
  CHECK(contains(r.error().message, "backing off"));
  CHECK(c.connects() == 1);
  now = 1;
  CHECK(!c.command({"PING"}));
  CHECK(c.connects() == 2);
  now = 2.5;  // the second failure doubled the wait to 2s
  CHECK(!c.command({"PING"}));
  CHECK(c.connects() == 2);

  auto b = build("redis", "url: redis://127.0.0.1:" + std::to_string(port) + "\n");
  REQUIRE(b.source.ok());
  CollectResult cr = (*b.source)->collect(FamilyFilter::everything());
  CHECK(!cr.status.ok());
  CHECK(cr.batch.empty());
}

TEST_CASE("redis source: INFO from a scripted server; AUTH with the password from the environment") {
  ::setenv("TRIMTAB_TEST_REDIS_PW", kSecret, 1);
  FakeTcpServer server([](const std::string& chunk) -> std::string {
    if (contains(chunk, "AUTH")) return "+OK\r\n";
    if (contains(chunk, "INFO")) return bulk("# Memory\r\nused_memory:1234\r\nmaxmemory:0\r\n# Stats\r\nevicted_keys:7\r\n");
    return "-ERR unexpected\r\n";
  });
  auto b = build("redis", "url: redis://127.0.0.1:" + std::to_string(server.port()) + "\npassword: env:TRIMTAB_TEST_REDIS_PW\n");
  REQUIRE(b.source.ok());
  for (int i = 0; i < 2; ++i) {
    CollectResult r = (*b.source)->collect(FamilyFilter::everything());
    REQUIRE(r.status.ok());
    std::map<std::string, double> s;
    for (std::size_t k = 0; k < r.batch.size(); ++k) s[std::string(r.batch.key(k))] = r.batch.entry(k).value;
    CHECK(s.at("redis_memory_used_bytes") == 1234);
    CHECK(s.at("redis_evicted_keys_total") == 7);
  }
  CHECK(server.connections() == 1);  // reused
  CHECK(contains(server.received(), kSecret));
  ::unsetenv("TRIMTAB_TEST_REDIS_PW");
}

TEST_CASE("redis source: a refused password is reported without the password, even if echoed") {
  ::setenv("TRIMTAB_TEST_REDIS_PW", kSecret, 1);
  FakeTcpServer server([](const std::string&) -> std::string {
    return std::string("-WRONGPASS invalid username-password pair: ") + kSecret + "\r\n";
  });
  auto b = build("redis", "url: redis://127.0.0.1:" + std::to_string(server.port()) + "\npassword: env:TRIMTAB_TEST_REDIS_PW\n");
  REQUIRE(b.source.ok());
  CollectResult r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE(!r.status.ok());
  CHECK(contains(r.status.error().message, "AUTH: WRONGPASS"));
  CHECK(!contains(r.status.error().message, kSecret));
  CHECK(contains(r.status.error().message, "<redacted>"));
  ::unsetenv("TRIMTAB_TEST_REDIS_PW");
}

TEST_CASE("redis source: a server that never answers times out") {
  FakeTcpServer silent([](const std::string&) { return std::string(); });
  auto b = build("redis", "url: redis://127.0.0.1:" + std::to_string(silent.port()) + "\n", 0.3);
  REQUIRE(b.source.ok());
  CollectResult r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE(!r.status.ok());
  CHECK(contains(r.status.error().message, "timed out after 0.3s"));
}

TEST_CASE("redis source: a reply trickled a byte at a time is cut at the deadline") {
  // Each byte comes within the 0.3 s read timeout; the reply (a 1 MB bulk
  // string) would take days. The exchange is cut at 0.3 s + 0.5 s of grace.
  FakeTcpServer slow([](const std::string&) { return std::string("$1000000\r\n") + std::string(1000000, 'x'); });
  slow.setTrickle(0.05);
  auto b = build("redis", "url: redis://127.0.0.1:" + std::to_string(slow.port()) + "\n", 0.3);
  REQUIRE(b.source.ok());
  const auto start = std::chrono::steady_clock::now();
  CollectResult r = (*b.source)->collect(FamilyFilter::everything());
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  REQUIRE(!r.status.ok());
  CHECK_MESSAGE(contains(r.status.error().message, "no complete reply within 0.8s"), r.status.error().message);
  CHECK(took < 30);  // bounded (the machine may be slow); without the deadline: about 14 hours
  slow.stop();
}

TEST_CASE("postgres and pgbouncer source settings") {
  CHECK(build("postgres", "dsn: 'host=127.0.0.1 port=5432 dbname=app user=trimtab'\npassword: env:PGPASSWORD\n").source.ok());
  CHECK(build("postgres", "dsn: env:PG_DSN\ntop_tables: 5\n").source.ok());
  CHECK(build("postgres", "dsn: postgresql://trimtab@127.0.0.1/app\n").source.ok());
  CHECK(build("pgbouncer", "dsn: 'host=127.0.0.1 port=6432 dbname=pgbouncer user=admin'\n").source.ok());

  auto b = build("postgres", std::string("dsn: 'host=x password=") + kSecret + "'\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.source.error().message, "holds a password"));
  // libpq's parse error quotes the token it stumbled on: not echoed.
  b = build("postgres", std::string("dsn: 'host=x ") + kSecret + "'\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.diagnosticsText(), "invalid connection string: libpq could not parse it"));
  CHECK(!contains(b.diagnosticsText(), kSecret));
  CHECK(!contains(b.diagnosticsText(), kSecret));
  // A '/' in a URI's password makes libpq read the rest as host, port and
  // dbname: `check` refuses it as the run does, without the value.
  b = build("postgres", std::string("dsn: 'postgresql://postgres:ab/c") + kSecret + "@127.0.0.1/app'\n");
  REQUIRE(!b.source.ok());
  CHECK(contains(b.diagnosticsText(), "invalid connection string: "));
  CHECK(!contains(b.diagnosticsText(), kSecret));
  b = build("postgres", std::string("dsn: postgresql://u:") + kSecret + "@h/db\n");
  REQUIRE(!b.source.ok());
  CHECK(!contains(b.diagnosticsText(), kSecret));
  CHECK(!build("postgres", "{}").source.ok());  // dsn is required
  CHECK(!build("postgres", "dsn: 'host = = x'\n").source.ok());
  CHECK(!build("postgres", "dsn: env:X\ntop_tables: -1\n").source.ok());
  CHECK(!build("pgbouncer", "dsn: env:X\ntop_tables: 3\n").source.ok());
}

TEST_CASE("postgres source: a refused connection fails the collection without the password") {
  ::setenv("TRIMTAB_TEST_PG_PW", kSecret, 1);
  int port = closedPort();
  for (const char* kind : {"postgres", "pgbouncer"}) {
    auto b = build(kind, "dsn: 'host=127.0.0.1 port=" + std::to_string(port) + " dbname=app user=u'\npassword: env:TRIMTAB_TEST_PG_PW\n");
    REQUIRE(b.source.ok());
    CollectResult r = (*b.source)->collect(FamilyFilter::everything());
    REQUIRE(!r.status.ok());
    CHECK(r.batch.empty());
    CHECK(r.status.error().message.rfind(std::string(kind) + " 127.0.0.1:" + std::to_string(port) + "/app user=u: connect:", 0) == 0);
    CHECK(!contains(r.status.error().message, kSecret));
    CHECK(!contains(r.status.error().message, "\n"));
  }
  ::unsetenv("TRIMTAB_TEST_PG_PW");
}

TEST_CASE("postgres source: a server that never answers is bounded by connect_timeout") {
  FakeTcpServer silent([](const std::string&) { return std::string(); });
  auto b = build("postgres", "dsn: 'host=127.0.0.1 port=" + std::to_string(silent.port()) + " dbname=app user=u'\n", 0.5);
  REQUIRE(b.source.ok());
  CollectResult r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE(!r.status.ok());
  CHECK(contains(r.status.error().message, "timeout"));
}

TEST_CASE("connection strings: timeouts and application_name are added, the password only in the string") {
  PgOptions o;
  o.dsn = *parseSecretRef("host=db port=6000 dbname=app user=me options='-c work_mem=4MB'", true);
  ::setenv("TRIMTAB_TEST_PG_PW", "it's", 1);
  o.password = *parseSecretRef("env:TRIMTAB_TEST_PG_PW", false);
  o.connectTimeout = 0.5;
  o.queryTimeout = 1.5;
  std::string display, password;
  auto info = buildConninfo(o, display, password);
  REQUIRE(info);
  CHECK(display == "postgres db:6000/app user=me");
  CHECK(password == "it's");
  CHECK(contains(*info, "password='it\\'s'"));
  CHECK(contains(*info, "connect_timeout='2'"));  // libpq's minimum
  CHECK(contains(*info, "application_name='trimtab'"));
  CHECK(contains(*info, "options='-c work_mem=4MB -c statement_timeout=1500'"));
  o.adminConsole = true;
  info = buildConninfo(o, display, password);
  REQUIRE(info);
  CHECK(!contains(*info, "statement_timeout"));
  ::unsetenv("TRIMTAB_TEST_PG_PW");
  CHECK(!buildConninfo(o, display, password));  // the variable is gone
}

TEST_CASE("connection strings: a URI whose password spills into host, port or dbname is refused unechoed") {
  // Unencoded '@' and '/' in a URI's password: libpq parses the rest of the
  // password as the host, or the port and database.
  for (std::string uri : {"postgresql://postgres:P@ss555@127.0.0.1:5432/app",
                          "postgresql://u:pa/ss555@127.0.0.1/app"}) {
    CAPTURE(uri);
    ::setenv("TRIMTAB_TEST_PG_DSN", uri.c_str(), 1);
    PgOptions o;
    o.dsn = *parseSecretRef("env:TRIMTAB_TEST_PG_DSN", true);
    std::string display, password;
    auto info = buildConninfo(o, display, password);
    REQUIRE_FALSE(info);
    CHECK(contains(info.error().message, "from environment variable TRIMTAB_TEST_PG_DSN is invalid"));
    CHECK_FALSE(contains(info.error().message, "ss555"));
    CHECK(display.empty());
  }
  ::setenv("TRIMTAB_TEST_PG_DSN", "postgresql://u:P%40ss555@127.0.0.1:5432/app", 1);
  PgOptions o;
  o.dsn = *parseSecretRef("env:TRIMTAB_TEST_PG_DSN", true);
  std::string display, password;
  auto info = buildConninfo(o, display, password);
  REQUIRE(info);
  CHECK(password == "P@ss555");
  CHECK(display == "postgres 127.0.0.1:5432/app user=u");
  // A user name may hold an '@' (cloud IAM users are e-mail addresses).
  ::setenv("TRIMTAB_TEST_PG_DSN", "postgresql://me%40example.org:pw@127.0.0.1/app", 1);
  info = buildConninfo(o, display, password);
  REQUIRE(info);
  CHECK(display == "postgres 127.0.0.1:5432/app user=me@example.org");
  ::unsetenv("TRIMTAB_TEST_PG_DSN");
}

}  // namespace trimtab

namespace trimtab {

TEST_CASE("postgres connection: a refused server is retried only after the backoff") {
  PgOptions o;
  o.dsn = *parseSecretRef("host=127.0.0.1 port=" + std::to_string(testing::closedPort()) + " dbname=app user=u", true);
  o.guard.backoffInitial = 1;
  o.guard.backoffMax = 4;
  Seconds now = 0;
  PgConnection c(o, [&] { return now; });
  auto noop = [](pqxx::connection&) {};
  Status s = c.run(noop);
  REQUIRE(!s.ok());
  CHECK(c.lastFailureWasConnection());
  CHECK(c.connects() == 1);
  s = c.run(noop);
  REQUIRE(!s.ok());
  CHECK(s.error().message.find("backing off") != std::string::npos);
  CHECK(c.connects() == 1);
  now = 1;
  CHECK(!c.run(noop).ok());
  CHECK(c.connects() == 2);
  CHECK(!c.runSimple([](PgSimpleSession&) {}).ok());  // the wrong protocol for this connection
}

}  // namespace trimtab
