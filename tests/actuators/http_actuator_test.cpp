// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <cstdlib>
#include <vector>

#include <nlohmann/json.hpp>

#include "actuators/http_actuator.h"
#include "actuator_test_support.h"
#include "scripted_http_server.h"

namespace trimtab {
namespace {

using testing::build;
using testing::Params;
using testing::request;
using testing::ScriptedHttpServer;

// An actuator on a fake clock whose sleeps are recorded, not slept.
struct Harness {
  explicit Harness(const std::string& yaml) : params(yaml) {
    auto options = HttpActuator::parseOptions(params.node);
    REQUIRE_MESSAGE(options.ok(), params.diagnostics->format());
    actuator = std::make_unique<HttpActuator>(
        *options, [this] { return clock.now(); }, [this](Seconds s) { sleeps.push_back(s); });
  }
  Params params;
  ManualClock clock{100};
  std::vector<Seconds> sleeps;
  std::unique_ptr<HttpActuator> actuator;
};

// TRIMTAB_TEST_TOKEN set while it lives (unset also when a REQUIRE ends the
// test), and the config of an actuator that sends it as Authorization.
struct TokenInEnv {
  explicit TokenInEnv(const std::string& value) { ::setenv("TRIMTAB_TEST_TOKEN", value.c_str(), 1); }
  ~TokenInEnv() { ::unsetenv("TRIMTAB_TEST_TOKEN"); }
  TokenInEnv(const TokenInEnv&) = delete;
  TokenInEnv& operator=(const TokenInEnv&) = delete;
  static std::string config(const ScriptedHttpServer& server, const std::string& pathAndQuery) {
    return "url: http://127.0.0.1:" + std::to_string(server.port()) + pathAndQuery +
           "\nretries: 0\nheaders: {Authorization: 'env:TRIMTAB_TEST_TOKEN'}\n";
  }
};

TEST_CASE("http actuator posts a JSON body with the change") {
  ScriptedHttpServer server;
  Params params("url: " + server.url("/knobs/pool") + "\nheaders: {X-Plain: abc}\n");
  auto actuator = build("http", params, ActuatorContext{"pool", nullptr});
  REQUIRE(actuator.ok());
  auto outcome = (*actuator)->apply(request(25, 20, "queue \"long\""));
  CHECK(outcome.ok);
  CHECK(outcome.effective);
  CHECK(outcome.attempts == 1);
  CHECK(outcome.latency >= 0);
  CHECK(outcome.detail.find("HTTP 200") != std::string::npos);

  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].method == "POST");
  CHECK(got[0].target == "/knobs/pool");
  CHECK(got[0].headers["content-type"] == "application/json");
  CHECK(got[0].headers["x-plain"] == "abc");
  auto body = nlohmann::json::parse(got[0].body);
  CHECK(body["knob"] == "pool");
  CHECK(body["value"].is_number_integer());
  CHECK(body["value"] == 25);
  CHECK(body["previous"] == 20);
  CHECK(body["reason"] == "queue \"long\"");
}

TEST_CASE("http actuator: PUT, body template and expected status") {
  ScriptedHttpServer server({200, 204});
  Harness h("url: " + server.url() + "\nmethod: PUT\nexpect_status: 204\nretries: 2\n"
            "body: 'size={value}&from={previous}&knob={knob}'\n");
  auto first = h.actuator->apply(request(0.5, 20));
  CHECK_FALSE(first.ok);  // 200 is not the 204 asked for, and not worth a retry
  CHECK(first.attempts == 1);
  CHECK(first.detail.find("HTTP 200") != std::string::npos);
  auto second = h.actuator->apply(request(0.5, 20));
  CHECK(second.ok);
  auto got = server.received();
  REQUIRE(got.size() == 2);
  CHECK(got[1].method == "PUT");
  CHECK(got[1].body == "size=0.5&from=20&knob=pool");
  CHECK(got[1].headers["content-type"].rfind("text/plain", 0) == 0);
}

TEST_CASE("http actuator: a JSON body template gets the reason escaped, so it cannot add keys") {
  ScriptedHttpServer server({200});
  Harness h("url: " + server.url() + "\nretries: 0\n"
            "body: '{\"pool_size\": {value}, \"why\": \"{reason}\", \"knob\": \"{knob}\"}'\n");
  auto outcome = h.actuator->apply(request(25, 20, "x\",\"pool_size\":500,\"y\":\"\\ \n"));
  REQUIRE_MESSAGE(outcome.ok, outcome.detail);
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].headers["content-type"] == "application/json");
  auto body = nlohmann::json::parse(got[0].body);  // valid JSON
  CHECK(body.size() == 3);
  CHECK(body["pool_size"] == 25);
  CHECK(body["why"] == "x\",\"pool_size\":500,\"y\":\"\\ \n");
  CHECK(body["knob"] == "pool");
}

TEST_CASE("http actuator: a 2xx whose body is too large is applied once, not retried") {
  ScriptedHttpServer server({200, 503, 503, 503});
  server.setBody(std::string(100 << 10, 'x'));  // the endpoint answers with its whole 100 KiB config
  Harness h("url: " + server.url() + "\nretries: 2\nbackoff: 0s\n");
  auto outcome = h.actuator->apply(request(25, 20));
  CHECK_MESSAGE(outcome.ok, outcome.detail);
  CHECK(outcome.attempts == 1);
  CHECK(server.received().size() == 1);
  CHECK(outcome.detail.find("response body not read: body larger than 65536 bytes") != std::string::npos);
  // A 5xx with a large body is still a failure worth retrying, by its status.
  auto failed = h.actuator->apply(request(26, 25));
  CHECK(!failed.ok);
  CHECK(failed.attempts == 3);
}

TEST_CASE("http actuator retries 5xx with doubling backoff") {
  ScriptedHttpServer server({500, 503, 200});
  Harness h("url: " + server.url() + "\nretries: 2\nbackoff: 100ms\n");
  auto outcome = h.actuator->apply(request());
  CHECK(outcome.ok);
  CHECK(outcome.attempts == 3);
  CHECK(server.received().size() == 3);
  REQUIRE(h.sleeps.size() == 2);
  CHECK(h.sleeps[0] == doctest::Approx(0.1));
  CHECK(h.sleeps[1] == doctest::Approx(0.2));
}

TEST_CASE("http actuator gives up after its retries and says why") {
  ScriptedHttpServer server({}, 500);
  Harness h("url: " + server.url() + "\nretries: 2\n");
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.attempts == 3);
  CHECK(outcome.detail.find("HTTP 500 from " + server.url()) == 0);
  CHECK(outcome.detail.find("(3 attempts)") != std::string::npos);
}

TEST_CASE("http actuator does not retry a client error") {
  ScriptedHttpServer server({400, 200});
  Harness h("url: " + server.url() + "\nretries: 2\n");
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.attempts == 1);
  CHECK(h.sleeps.empty());
}

TEST_CASE("http actuator times out each attempt") {
  ScriptedHttpServer server;
  server.setSilent(true);
  Harness h("url: " + server.url() + "\ntimeout: 200ms\nretries: 1\nbackoff: 0s\n");
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.attempts == 2);
  CHECK(outcome.detail.find("timed out") != std::string::npos);
  CHECK(server.received().size() == 2);
}

TEST_CASE("http actuator circuit breaker opens, fails fast, and recovers") {
  ScriptedHttpServer server({}, 500);
  Harness h("url: " + server.url() + "\nretries: 0\nbreaker_failures: 2\nbreaker_open: 30s\n");
  CHECK_FALSE(h.actuator->apply(request()).ok);
  auto second = h.actuator->apply(request());
  CHECK_FALSE(second.ok);
  CHECK(second.detail.find("circuit opened for 30s") != std::string::npos);

  h.clock.advance(10);
  auto open = h.actuator->apply(request());
  CHECK_FALSE(open.ok);
  CHECK(open.attempts == 0);
  CHECK(open.detail.rfind("circuit open until", 0) == 0);
  CHECK(server.received().size() == 2);  // failed fast: no request

  SUBCASE("a successful half-open try closes it") {
    h.clock.advance(21);
    server.setDefaultStatus(200);
    auto probe = h.actuator->apply(request());
    CHECK(probe.ok);
    CHECK(server.received().size() == 3);
    server.setDefaultStatus(500);
    CHECK(h.actuator->apply(request()).attempts == 1);  // closed: one failure does not reopen
    CHECK(h.actuator->apply(request()).detail.find("circuit opened") != std::string::npos);
  }
  SUBCASE("a failed half-open try reopens it at once, with a single attempt") {
    h.clock.advance(21);
    auto probe = h.actuator->apply(request());
    CHECK_FALSE(probe.ok);
    CHECK(probe.attempts == 1);
    CHECK(probe.detail.find("circuit opened") != std::string::npos);
    CHECK(h.actuator->apply(request()).detail.rfind("circuit open until", 0) == 0);
    CHECK(server.received().size() == 3);
  }
}

TEST_CASE("http actuator keeps env: secrets out of details") {
  ScriptedHttpServer server({}, 500);
  server.echoHeader("Authorization");
  TokenInEnv token("Bearer s3cr3t-t0ken");
  Harness h(TokenInEnv::config(server, "/knob?key=qsecret"));
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  auto got = server.received();
  REQUIRE(got.size() == 1);
  CHECK(got[0].headers["authorization"] == "Bearer s3cr3t-t0ken");
  CHECK(outcome.detail.find("s3cr3t") == std::string::npos);
  CHECK(outcome.detail.find("<redacted>") != std::string::npos);
  CHECK(outcome.detail.find("qsecret") == std::string::npos);

  SUBCASE("an unset variable is named, and nothing is sent") {
    ::unsetenv("TRIMTAB_TEST_TOKEN");
    auto missing = h.actuator->apply(request());
    CHECK_FALSE(missing.ok);
    CHECK(missing.detail.find("TRIMTAB_TEST_TOKEN is not set") != std::string::npos);
    CHECK(server.received().size() == 1);
  }
}

TEST_CASE("http actuator: a secret that is part of '<redacted>' is redacted once, not for ever") {
  // The target echoes the header into its error body; the secret "t" is
  // also in the replacement text.
  ScriptedHttpServer server({}, 500);
  server.echoHeader("Authorization");
  TokenInEnv token("t");
  Harness h(TokenInEnv::config(server, "/knob"));
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.detail.find("<redacted>") != std::string::npos);
}

TEST_CASE("http actuator: an env: header value with a line break is not sent") {
  ScriptedHttpServer server({}, 200);
  TokenInEnv token("Bearer abc\r\nX-Evil: 1");
  Harness h(TokenInEnv::config(server, "/knob"));
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK_MESSAGE(outcome.detail.find("header 'Authorization': the value contains a line break") != std::string::npos,
                outcome.detail);
  CHECK(outcome.detail.find("abc") == std::string::npos);
  CHECK(server.received().empty());
}

TEST_CASE("http actuator reports a refused connection") {
  unsigned short port;
  {
    ScriptedHttpServer gone;
    port = gone.port();
  }
  Harness h("url: http://127.0.0.1:" + std::to_string(port) + "/k\nretries: 1\nbackoff: 10ms\n");
  auto outcome = h.actuator->apply(request());
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.attempts == 2);
  CHECK(outcome.detail.find("127.0.0.1") != std::string::npos);
}

TEST_CASE("http actuator settings errors name the key") {
  SUBCASE("missing url") {
    Params params("method: POST\n");
    auto actuator = build("http", params);
    REQUIRE_FALSE(actuator.ok());
    CHECK(params.mentions("url", "missing required key"));
    CHECK(actuator.error().message.find("url") != std::string::npos);
  }
  SUBCASE("https url") {
    Params params("url: https://example.com/k\n");
    REQUIRE_FALSE(build("http", params).ok());
    CHECK(params.mentions("url", "http://"));
  }
  SUBCASE("bad values") {
    Params params("url: http://127.0.0.1:1/k\nmethod: GET\nretries: -1\ntimeout: 0s\n"
                  "expect_status: ok\nbreaker_failures: 0\nheaders: {X-A: 'env:'}\n");
    REQUIRE_FALSE(build("http", params).ok());
    CHECK(params.mentions("method", "POST"));
    CHECK(params.mentions("retries", "from 0 to 10"));
    CHECK(params.mentions("timeout", "above 0"));
    CHECK(params.mentions("expect_status", "'2xx'"));
    CHECK(params.mentions("breaker_failures", "at least 1"));
    CHECK(params.mentions("headers", "env:VARIABLE_NAME"));
  }
  SUBCASE("an integer past int's range is out of range, not wrapped") {
    Params params("url: http://127.0.0.1:1/k\nretries: 4294967297\nbreaker_failures: 4294967296\n");
    REQUIRE_FALSE(build("http", params).ok());
    CHECK(params.mentions("retries", "from 0 to 10"));
    CHECK(params.mentions("breaker_failures", "at most 2147483647"));
  }
  SUBCASE("unknown key with a suggestion") {
    Params params("url: http://127.0.0.1:1/k\nbreaker_failure: 3\n");
    REQUIRE_FALSE(build("http", params).ok());
    CHECK_MESSAGE(params.mentions("breaker_failure", "did you mean 'breaker_failures'"), params.diagnostics->format());
  }
  SUBCASE("defaults") {
    Params params("url: http://127.0.0.1:1/k\n");
    auto options = HttpActuator::parseOptions(params.node);
    REQUIRE(options.ok());
    CHECK(options->method == "POST");
    CHECK(options->timeout == 2);
    CHECK(options->retries == 2);
    CHECK(options->backoff == doctest::Approx(0.2));
    CHECK(options->expectStatus == 0);
    CHECK(options->breakerFailures == 5);
    CHECK(options->breakerOpen == 30);
  }
}

}  // namespace
}  // namespace trimtab
