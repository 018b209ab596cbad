// SPDX-License-Identifier: Apache-2.0
#include "common/server_guard.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <sys/stat.h>
#include <unistd.h>

#include "common/secret.h"

namespace trimtab {

TEST_CASE("the guard backs off, doubling up to the cap, and resets on success") {
  Seconds now = 100;
  GuardOptions o;
  o.backoffInitial = 0.5;
  o.backoffMax = 2;
  ServerGuard guard(o, [&] { return now; });
  CHECK(guard.admit("redis x").ok());
  guard.failed();
  Status s = guard.admit("redis x");
  REQUIRE(!s.ok());
  CHECK(s.error().message.rfind("redis x: backing off 0.50s more after 1 consecutive failures", 0) == 0);
  now += 0.5;
  CHECK(guard.admit("x").ok());
  guard.failed();  // 1s
  now += 0.9;
  CHECK(!guard.admit("x").ok());
  now += 0.1;
  CHECK(guard.admit("x").ok());
  guard.failed();  // 2s
  guard.failed();  // capped at 2s, not 4s
  now += 2;
  CHECK(guard.admit("x").ok());
  CHECK(guard.consecutiveFailures() == 4);
  guard.succeeded();
  CHECK(guard.consecutiveFailures() == 0);
  guard.failed();
  now += 0.5;
  CHECK(guard.admit("x").ok());  // back to the first step
  CHECK(!guard.open());
}

TEST_CASE("the breaker opens after N failures, half-opens, and re-opens on a failed probe") {
  Seconds now = 0;
  GuardOptions o;
  o.backoffInitial = 0;
  o.backoffMax = 0;
  o.breakerFailures = 3;
  o.breakerOpen = 30;
  ServerGuard guard(o, [&] { return now; });
  guard.failed();
  guard.failed();
  CHECK(guard.admit("pg").ok());
  guard.failed();
  CHECK(guard.open());
  Status s = guard.admit("pg");
  REQUIRE(!s.ok());
  CHECK(s.error().message.find("circuit open for 30.0s more after 3 consecutive failures") != std::string::npos);
  now = 29.9;
  CHECK(!guard.admit("pg").ok());
  now = 30;
  CHECK(guard.admit("pg").ok());  // half-open: one probe
  guard.failed();
  CHECK(!guard.admit("pg").ok());
  now = 60;
  CHECK(guard.admit("pg").ok());
  guard.succeeded();
  CHECK(!guard.open());
  CHECK(guard.admit("pg").ok());
}

TEST_CASE("secret references: env, file, literal; errors never show a value") {
  auto env = parseSecretRef("env:TRIMTAB_TEST_SECRET", false);
  REQUIRE(env);
  CHECK(env->kind == SecretRef::Kind::Env);
  ::unsetenv("TRIMTAB_TEST_SECRET");
  auto missing = readSecret(*env);
  REQUIRE(!missing);
  CHECK(missing.error().message == "environment variable TRIMTAB_TEST_SECRET is not set");
  ::setenv("TRIMTAB_TEST_SECRET", "s3cret", 1);
  CHECK(*readSecret(*env) == "s3cret");
  ::unsetenv("TRIMTAB_TEST_SECRET");

  auto path = std::filesystem::temp_directory_path() / ("trimtab_secret_" + std::to_string(::getpid()));
  std::ofstream(path) << "from-file\r\nsecond line\n";
  auto file = parseSecretRef("file:" + path.string(), false);
  REQUIRE(file);
  CHECK(*readSecret(*file) == "from-file");
  std::filesystem::remove(path);
  auto gone = readSecret(*file);
  REQUIRE(!gone);
  CHECK(gone.error().message.find("from-file") == std::string::npos);

  // Not a regular file (a FIFO would block every connect; /dev/zero never
  // ends), or a first line past the cap: refused, promptly.
  auto fifo = std::filesystem::temp_directory_path() / ("trimtab_fifo_" + std::to_string(::getpid()));
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  auto fromFifo = readSecret(*parseSecretRef("file:" + fifo.string(), false));
  std::filesystem::remove(fifo);
  REQUIRE(!fromFifo);
  CHECK(fromFifo.error().message.find("not a regular file") != std::string::npos);
  auto zero = readSecret(*parseSecretRef("file:/dev/zero", false));
  REQUIRE(!zero);
  CHECK(zero.error().message.find("not a regular file") != std::string::npos);
  std::ofstream(path) << std::string(1 << 20, 'x');  // 1 MiB, no newline
  auto huge = readSecret(*file);
  std::filesystem::remove(path);
  REQUIRE(!huge);
  CHECK(huge.error().message.find("too large for a secret") != std::string::npos);

  CHECK(!parseSecretRef("hunter2", false));
  CHECK(parseSecretRef("hunter2", true)->kind == SecretRef::Kind::Literal);
  CHECK(!parseSecretRef("env:", false));
  CHECK(!parseSecretRef("env:1ABC", false));
  CHECK(!parseSecretRef("env:A-B", false));
  CHECK(!parseSecretRef("file:", false));
  CHECK(parseSecretRef("", false)->empty());

  std::string text = "auth failed for pw hunter2 (hunter2)";
  redactSecret(text, "hunter2");
  CHECK(text == "auth failed for pw <redacted> (<redacted>)");
  redactSecret(text, "");
  CHECK(text == "auth failed for pw <redacted> (<redacted>)");
}

}  // namespace trimtab
