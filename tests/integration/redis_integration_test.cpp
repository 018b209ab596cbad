// SPDX-License-Identifier: Apache-2.0
// The redis source and actuators against a real redis-server (scripts/services).
#include <doctest/doctest.h>
#include <hiredis/hiredis.h>

#include <string>
#include <vector>

#include "server_builders.h"
#include "services_env.h"
#include "sources/redis_connection.h"

namespace trimtab::integration {
namespace {

constexpr int kKeys = 40000;
constexpr int kValueBytes = 1024;
constexpr int kFillBatch = 1000;

std::string redisYaml(const Services& s) {
  return "url: " + s["REDIS_URL"] + "\npassword: env:REDIS_PASSWORD\n";
}

RedisConnection direct(const Services& s) {
  RedisOptions o;
  o.url = *parseSecretRef(s["REDIS_URL"], true);
  o.password = *parseSecretRef("env:REDIS_PASSWORD", false);
  o.timeout = 5;
  return RedisConnection(o);
}

RedisReply must(Result<RedisReply> r) {
  if (!r) FAIL(r.error().message);
  if (r->isError()) FAIL(r->str);
  return *r;
}

long long commandCalls(RedisConnection& c, const std::string& command) {
  std::string stats = must(c.command({"INFO", "commandstats"})).str;
  auto at = stats.find("cmdstat_" + command + ":calls=");
  if (at == std::string::npos) return 0;
  return std::stoll(stats.substr(at + command.size() + 15));
}

}  // namespace

TEST_CASE("redis: INFO of a real server, CONFIG SET through the allowlist") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("redis", redisYaml(*s));
  auto m = collectMap(*source);
  REQUIRE(!m.empty());
  CHECK(valueOr(m, "redis_memory_used_bytes") > 0);
  CHECK(valueOr(m, "redis_connected_clients") >= 1);
  CHECK(m.count("redis_db_keys{db=\"db0\"}") == 1);
  CHECK(m.count("redis_keyspace_hits_total") == 1);

  auto maxmemory = makeActuator("redis_config", redisYaml(*s) + "parameter: maxmemory\n");
  ActuationOutcome o = maxmemory->apply(change(512 << 20));
  CHECK(o.ok);
  CHECK(o.effective);
  CHECK(o.detail.find("maxmemory = 536870912") != std::string::npos);
  m = collectMap(*source);
  CHECK(valueOr(m, "redis_memory_max_bytes") == 512 << 20);
  CHECK(maxmemory->apply(change(0)).effective);

  auto policy = makeActuator("redis_config", redisYaml(*s) + "parameter: maxmemory-policy\n");
  o = policy->apply(change(1));
  CHECK(o.effective);
  CHECK(o.detail.find("allkeys-lru") != std::string::npos);
  CHECK(policy->apply(change(0)).effective);
}

TEST_CASE("redis: a filling cache; redis_ttl shortens TTLs by batched SCAN/EXPIRE over several applies; memory falls") {
  TRIMTAB_REQUIRE_SERVICES(s);
  RedisConnection c = direct(*s);
  must(c.command({"FLUSHALL"}));
  const std::string value(kValueBytes, 'v');
  for (int i = 0; i < kKeys; i += kFillBatch) {
    std::vector<std::vector<std::string>> batch;
    for (int k = i; k < i + kFillBatch; ++k) batch.push_back({"SET", "cache:" + std::to_string(k), value, "EX", "3600"});
    auto r = c.pipeline(batch);
    REQUIRE(r);
  }
  must(c.command({"SET", "cache:short", "x", "EX", "1"}));  // already below the new TTL: left alone
  must(c.command({"SET", "other:keep", "x"}));              // outside the pattern: untouched
  must(c.command({"CONFIG", "RESETSTAT"}));

  auto source = makeSource("redis", redisYaml(*s));
  auto before = collectMap(*source);
  const double usedBefore = valueOr(before, "redis_memory_used_bytes");
  CHECK(valueOr(before, "redis_db_keys{db=\"db0\"}") >= kKeys);
  CHECK(usedBefore > kKeys * kValueBytes);

  // Expiry runs faster with a higher hz: raised through the allowlisted actuator.
  auto hz = makeActuator("redis_config", redisYaml(*s) + "parameter: hz\n");
  CHECK(hz->apply(change(100)).effective);

  constexpr int kPerApply = 5000;
  auto ttl = makeActuator("redis_ttl", redisYaml(*s) + "pattern: 'cache:*'\nbatch: 500\ntime_budget: 2s\ntimeout: 5s\n"
                                           "max_keys_per_apply: " + std::to_string(kPerApply) + "\n");
  std::vector<ActuationOutcome> outcomes;
  for (int i = 0; i < 100; ++i) {
    outcomes.push_back(ttl->apply(change(2, 3600)));
    REQUIRE_MESSAGE(outcomes.back().ok, outcomes.back().detail);
    if (outcomes.back().effective) break;
  }
  REQUIRE(outcomes.back().effective);
  CHECK(outcomes.size() >= kKeys / kPerApply);  // spread over applies, not done in one
  CHECK(!outcomes.front().effective);
  CHECK(outcomes.front().detail.find("not yet effective") != std::string::npos);
  CHECK(outcomes.back().detail.find("scan complete") != std::string::npos);
  MESSAGE(outcomes.back().detail);

  CHECK(commandCalls(c, "scan") >= kKeys / 500);
  CHECK(commandCalls(c, "keys") == 0);  // never KEYS
  CHECK(commandCalls(c, "expire") >= kKeys);
  CHECK(must(c.command({"TTL", "other:keep"})).integer == -1);
  CHECK(must(c.command({"TTL", "cache:short"})).integer <= 1);

  double usedAfter = usedBefore;
  bool fell = eventually(30, [&] {
    auto m = collectMap(*source);
    usedAfter = valueOr(m, "redis_memory_used_bytes", usedBefore);
    return usedAfter < usedBefore / 4;
  });
  CHECK_MESSAGE(fell, "used_memory " << usedBefore << " -> " << usedAfter);
  auto after = collectMap(*source);
  CHECK(valueOr(after, "redis_expired_keys_total") >= kKeys / 2);
  CHECK(hz->apply(change(10)).effective);

  auto purge = makeActuator("redis_purge", redisYaml(*s));
  ActuationOutcome p = purge->apply(change(1));
  CHECK(p.ok);
  CHECK(p.detail.find("MEMORY PURGE: fragmentation") != std::string::npos);
}

TEST_CASE("redis: redis_app_config writes app:config and publishes the change") {
  TRIMTAB_REQUIRE_SERVICES(s);
  RedisConnection c = direct(*s);
  must(c.command({"DEL", "app:config"}));

  // A subscriber, as the service would run it.
  auto url = parseRedisUrl(s->operator[]("REDIS_URL"));
  REQUIRE(url);
  timeval tv{5, 0};
  redisContext* sub = redisConnectWithTimeout(url->host.c_str(), url->port, tv);
  REQUIRE(sub);
  REQUIRE(sub->err == 0);
  redisSetTimeout(sub, tv);
  std::string pw = (*s)["REDIS_PASSWORD"];
  freeReplyObject(redisCommand(sub, "AUTH %s", pw.c_str()));
  freeReplyObject(redisCommand(sub, "SUBSCRIBE %s", "app:config"));

  auto actuator = makeActuator("redis_app_config", redisYaml(*s), "cache_ttl");
  ActuationOutcome o = actuator->apply(change(300, 600));
  CHECK(o.ok);
  CHECK(o.effective);
  CHECK(o.detail == "app:config cache_ttl = 300, published on app:config to 1 subscribers");
  CHECK(must(c.command({"HGET", "app:config", "cache_ttl"})).str == "300");

  void* raw = nullptr;
  REQUIRE(redisGetReply(sub, &raw) == REDIS_OK);
  auto* msg = static_cast<redisReply*>(raw);
  REQUIRE(msg->type == REDIS_REPLY_ARRAY);
  REQUIRE(msg->elements == 3);
  CHECK(std::string(msg->element[0]->str) == "message");
  CHECK(std::string(msg->element[2]->str) == R"({"field":"cache_ttl","previous":600,"value":300})");
  freeReplyObject(raw);
  redisFree(sub);
}

TEST_CASE("redis: killed mid-run, the source fails without crashing and recovers after the restart") {
  TRIMTAB_REQUIRE_SERVICES(s);
  auto source = makeSource("redis", redisYaml(*s) + "reconnect_backoff_max: 200ms\n", 1, 0.5);
  auto actuator = makeActuator("redis_config", redisYaml(*s) + "parameter: hz\nretries: 0\n");
  REQUIRE(!collectMap(*source).empty());
  REQUIRE(s->run("kill", "redis"));
  std::string error;
  CHECK(collectMap(*source, &error).empty());
  CHECK(error.rfind("redis 127.0.0.1:", 0) == 0);
  CHECK(error.find((*s)["REDIS_PASSWORD"]) == std::string::npos);
  ActuationOutcome o = actuator->apply(change(10));
  CHECK(!o.ok);
  CHECK(o.detail.find((*s)["REDIS_PASSWORD"]) == std::string::npos);

  REQUIRE(s->run("start", "redis"));
  CHECK(recoversWithinTwoIntervals(*source, 0.5));
  CHECK(eventually(10, [&] { return actuator->apply(change(10)).ok; }));
}

}  // namespace trimtab::integration
