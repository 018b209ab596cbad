// SPDX-License-Identifier: Apache-2.0
#include "sources/redis_info.h"

#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "sources/redis_connection.h"

namespace trimtab {
namespace {

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(TRIMTAB_SOURCE_DIR) + "/tests/fixtures/" + name, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::map<std::string, double> samples(const SampleBatch& batch) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < batch.size(); ++i) out[std::string(batch.key(i))] = batch.entry(i).value;
  return out;
}

}  // namespace

TEST_CASE("INFO of a real Redis 7 becomes redis_exporter-named samples") {
  std::string text = fixture("redis_info.txt");
  REQUIRE(text.find("\r\n") != std::string::npos);  // the reply's own line endings
  SampleBatch batch;
  std::vector<std::string> warnings;
  RedisInfoStats stats = parseRedisInfo(text, FamilyFilter::everything(), batch, warnings);
  CHECK(warnings.empty());
  CHECK(stats.fields > 100);
  auto s = samples(batch);
  CHECK(s.at("redis_memory_used_bytes") == 991256);
  CHECK(s.at("redis_memory_max_bytes") == 0);
  CHECK(s.at("redis_mem_fragmentation_ratio") == doctest::Approx(7.20));
  CHECK(s.at("redis_connected_clients") == 1);
  CHECK(s.at("redis_keyspace_hits_total") == 0);
  CHECK(s.at("redis_db_keys{db=\"db0\"}") == 2);
  CHECK(s.at("redis_db_keys_expiring{db=\"db0\"}") == 1);
  CHECK(s.at("redis_db_avg_ttl_seconds{db=\"db0\"}") == doctest::Approx(99.95));
  CHECK(s.at("redis_rdb_last_bgsave_status") == 1);
  for (const char* name : {"redis_memory_used_peak_bytes", "redis_evicted_keys_total", "redis_expired_keys_total",
                           "redis_blocked_clients", "redis_instantaneous_ops_per_sec",
                           "redis_rdb_changes_since_last_save", "redis_keyspace_misses_total", "redis_uptime_in_seconds"})
    CHECK_MESSAGE(s.count(name) == 1, name);
  for (std::size_t i = 0; i < batch.size(); ++i)
    if (batch.name(i) == "redis_keyspace_hits_total") CHECK(batch.entry(i).type == MetricType::Counter);
}

TEST_CASE("INFO: only wanted names are added; the rest are counted") {
  FamilyFilter filter;
  filter.add("redis_memory_used_bytes");
  filter.add("redis_db_keys");
  SampleBatch batch;
  std::vector<std::string> warnings;
  RedisInfoStats stats = parseRedisInfo(fixture("redis_info.txt"), filter, batch, warnings);
  auto s = samples(batch);
  CHECK(s.size() == 2);
  CHECK(s.count("redis_memory_used_bytes") == 1);
  CHECK(s.count("redis_db_keys{db=\"db0\"}") == 1);
  CHECK(stats.skipped > 20);
}

TEST_CASE("INFO: several databases, an empty keyspace and bad values") {
  SampleBatch batch;
  std::vector<std::string> warnings;
  parseRedisInfo("# Memory\nused_memory:abc\nmaxmemory:100\n# Keyspace\ndb3:keys=7,expires=2,avg_ttl=1500\n",
                 FamilyFilter::everything(), batch, warnings);
  auto s = samples(batch);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] == "INFO field 'used_memory': expected a number, got 'abc'");
  CHECK(s.count("redis_memory_used_bytes") == 0);
  CHECK(s.at("redis_memory_max_bytes") == 100);
  CHECK(s.at("redis_db_keys{db=\"db3\"}") == 7);
  CHECK(s.at("redis_db_avg_ttl_seconds{db=\"db3\"}") == doctest::Approx(1.5));
  CHECK(s.at("redis_db_keys{db=\"db0\"}") == 0);  // Redis omits an empty db0

  batch.clear();
  warnings.clear();
  parseRedisInfo("db0:keys=x,expires=1\n", FamilyFilter::everything(), batch, warnings);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("db0") != std::string::npos);
}

TEST_CASE("INFO: garbage yields no fields and no samples") {
  for (const char* garbage : {"", "\r\n\r\n", "hello world", "\x01\x02\x03", "# only a section\n"}) {
    SampleBatch batch;
    std::vector<std::string> warnings;
    RedisInfoStats stats = parseRedisInfo(garbage, FamilyFilter::everything(), batch, warnings);
    CHECK(stats.fields == 0);
    CHECK(batch.empty());
  }
}

TEST_CASE("redis URLs: host, port, database, credentials, IPv6, and errors") {
  auto u = parseRedisUrl("redis://127.0.0.1:6380/2");
  REQUIRE(u);
  CHECK(u->host == "127.0.0.1");
  CHECK(u->port == 6380);
  CHECK(u->db == 2);
  CHECK(u->password.empty());

  u = parseRedisUrl("redis://app:p%40ss:w@cache.local");
  REQUIRE(u);
  CHECK(u->user == "app");
  CHECK(u->password == "p@ss:w");
  CHECK(u->host == "cache.local");
  CHECK(u->port == 6379);
  CHECK(u->db == -1);

  // A '/' or '@' left unencoded in a password stays in the password, and
  // an error about the rest never shows it.
  u = parseRedisUrl("redis://:ab/cSECRET@e@127.0.0.1:6379/3");
  REQUIRE(u);
  CHECK(u->password == "ab/cSECRET@e");
  CHECK(u->host == "127.0.0.1");
  CHECK(u->db == 3);
  auto bad = parseRedisUrl("redis://:ab/cSECRET@127.0.0.1:x");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("SECRET") == std::string::npos);

  u = parseRedisUrl("redis://[::1]:7000");
  REQUIRE(u);
  CHECK(u->host == "::1");
  CHECK(u->port == 7000);

  for (const char* bad : {"http://x:1", "redis://", "redis://:1", "redis://h:0", "redis://h:99999", "redis://h:x",
                          "redis://h/db", "redis://[::1", "redis://h:1/-3"}) {
    auto r = parseRedisUrl(bad);
    CHECK_MESSAGE(!r, bad);
    if (!r) CHECK(!r.error().message.empty());
  }
}

}  // namespace trimtab
