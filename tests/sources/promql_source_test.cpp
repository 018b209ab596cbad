// SPDX-License-Identifier: Apache-2.0
#include "sources/promql_source.h"

#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <string>

#include "test_http_server.h"

namespace trimtab {
namespace {

using testing::closedPort;
using testing::httpReply;
using testing::TestHttpServer;

std::map<std::string, double> samples(const SampleBatch& batch) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < batch.size(); ++i) out[std::string(batch.key(i))] = batch.entry(i).value;
  return out;
}

struct Built {
  std::shared_ptr<ConfigDiagnostics> diagnostics = std::make_shared<ConfigDiagnostics>();
  Result<std::unique_ptr<MetricSource>> source = makeError("not built");
};

Built build(const std::string& yaml, Seconds timeout = 2) {
  Built b;
  ConfigNode node = ConfigNode::loadString(yaml, "test.yaml", b.diagnostics);
  SourceSpec spec;
  spec.name = "fleet";
  spec.kind = "promql";
  spec.timeout = timeout;
  b.source = PromqlSource::create(spec, node);
  return b;
}

const char* kVector = R"({"status":"success","data":{"resultType":"vector","result":[
  {"metric":{"__name__":"up","job":"api","instance":"a:1"},"value":[1700000000.1,"1"]},
  {"metric":{"job":"api","instance":"b:1"},"value":[1700000000.1,"NaN"]},
  {"metric":{"job":"db"},"value":[1700000000.1,"+Inf"]}]}})";

}  // namespace

TEST_CASE("a vector answer: one sample per series, labels kept, __name__ dropped") {
  SampleBatch batch;
  std::vector<std::string> warnings;
  REQUIRE(parsePromqlAnswer(kVector, "fleet_up", batch, warnings).ok());
  CHECK(warnings.empty());
  auto s = samples(batch);
  CHECK(s.at("fleet_up{instance=\"a:1\",job=\"api\"}") == 1);
  CHECK(std::isnan(s.at("fleet_up{instance=\"b:1\",job=\"api\"}")));
  CHECK(std::isinf(s.at("fleet_up{job=\"db\"}")));
}

TEST_CASE("a scalar answer; errors; unsupported types; garbage") {
  SampleBatch batch;
  std::vector<std::string> warnings;
  REQUIRE(parsePromqlAnswer(R"({"status":"success","data":{"resultType":"scalar","result":[1.5,"0.25"]}})", "p95", batch,
                            warnings).ok());
  CHECK(samples(batch).at("p95") == 0.25);

  Status err = parsePromqlAnswer(R"({"status":"error","errorType":"bad_data","error":"parse error at char 3"})", "x",
                                 batch, warnings);
  REQUIRE(!err.ok());
  CHECK(err.error().message == "bad_data: parse error at char 3");

  err = parsePromqlAnswer(R"({"status":"success","data":{"resultType":"matrix","result":[]}})", "x", batch, warnings);
  REQUIRE(!err.ok());
  CHECK(err.error().message.find("matrix") != std::string::npos);

  for (const char* garbage : {"", "<html>", "[]", "{\"status\":\"success\"}", "{\"status\":\"success\",\"data\":{}}"}) {
    CHECK_MESSAGE(!parsePromqlAnswer(garbage, "x", batch, warnings).ok(), garbage);
  }

  batch.clear();
  REQUIRE(parsePromqlAnswer(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"a":"1"},"value":[1,"x"]},{"metric":{"a":2},"value":[1,"1"]},{"value":[1,"1"]},
      {"metric":{"a":"ok"},"value":[1,"7"]}]}})", "m", batch, warnings).ok());
  CHECK(warnings.size() == 3);
  CHECK(samples(batch).at("m{a=\"ok\"}") == 7);
}

TEST_CASE("fields of the wrong type are errors, not exceptions") {
  // Found by tests/fuzz/promql_answer_fuzz.cpp: nlohmann's value() threw.
  SampleBatch batch;
  std::vector<std::string> warnings;
  auto err = parsePromqlAnswer(R"({"status":{"resultType":"scalar"}})", "x", batch, warnings);
  REQUIRE(!err.ok());
  CHECK(err.error().message == "error: no error message");
  err = parsePromqlAnswer(R"({"status":"error","errorType":7,"error":["x"]})", "x", batch, warnings);
  REQUIRE(!err.ok());
  CHECK(err.error().message == "error: no error message");
  err = parsePromqlAnswer(R"({"status":"success","data":{"resultType":1,"result":[]}})", "x", batch, warnings);
  REQUIRE(!err.ok());
  CHECK(err.error().message.find("result type '' is not supported") == 0);
}

TEST_CASE("a label name Prometheus 3 allows but series keys cannot carry skips its series, saying which") {
  // Found by tests/fuzz/promql_answer_fuzz.cpp: the key m{service.name="api"}
  // did not parse back, so the series reached the policies without labels.
  SampleBatch batch;
  std::vector<std::string> warnings;
  REQUIRE(parsePromqlAnswer(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"service.name":"api"},"value":[1,"3"]},{"metric":{"service_name":"api"},"value":[1,"4"]}]}})",
                            "m", batch, warnings)
              .ok());
  REQUIRE(batch.size() == 1);
  CHECK(batch.key(0) == "m{service_name=\"api\"}");
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0] ==
        "series 1 of 'm' skipped: label name 'service.name' is not [a-zA-Z_][a-zA-Z0-9_]* (rename it in the query "
        "with label_replace)");

  // An empty name too: the series must not arrive with the labels read before it.
  batch.clear();
  warnings.clear();
  REQUIRE(parsePromqlAnswer(R"({"status":"success","data":{"resultType":"vector","result":[
      {"metric":{"":"x","b":"y"},"value":[1,"3"]}]}})",
                            "m", batch, warnings)
              .ok());
  CHECK(batch.size() == 0);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].find("label name '' is not") != std::string::npos);
}

TEST_CASE("query strings are percent-encoded") {
  CHECK(urlEncode("histogram_quantile(0.95, sum by (le) (rate(x_bucket{job=\"a b\"}[5m])))") ==
        "histogram_quantile%280.95%2C%20sum%20by%20%28le%29%20%28rate%28x_bucket%7Bjob%3D%22a%20b%22%7D%5B5m%5D%29%29%29");
  CHECK(urlEncode("a-b_c.d~e") == "a-b_c.d~e");
}

TEST_CASE("promql settings are checked") {
  auto b = build("url: http://127.0.0.1:9090\nqueries:\n  - {name: fleet_p95, query: 'up'}\n");
  CHECK(b.source.ok());

  b = build("url: https://prom:9090\nqueries: [{name: x, query: up}]\n");
  CHECK(!b.source.ok());
  b = build("url: http://prom:9090\n");
  REQUIRE(!b.source.ok());
  CHECK(b.source.error().message.find("queries") != std::string::npos);
  b = build("url: http://prom:9090\nqueries: [{name: 9bad, query: up}, {name: ok, query: ''}]\n");
  REQUIRE(!b.source.ok());
  CHECK(b.source.error().message.find("9bad") != std::string::npos);
  b = build("url: http://prom:9090\nqueries: [{name: a, query: up}, {name: a, query: up}]\n");
  CHECK(!b.source.ok());
  b = build("url: http://prom:9090\nqueries: [{name: a, query: up, extra: 1}]\n");
  CHECK(!b.source.ok());
  b = build("url: http://prom:9090\nheaders: {Authorization: 'env:1X'}\nqueries: [{name: a, query: up}]\n");
  CHECK(!b.source.ok());
}

TEST_CASE("collect: the query reaches the server encoded; unwanted queries are not sent") {
  std::vector<std::string> requests;
  TestHttpServer server([&](const std::string& request) {
    requests.push_back(request);
    return httpReply(200, kVector, "application/json");
  });
  auto b = build("url: http://127.0.0.1:" + std::to_string(server.port()) +
                 "/\nqueries:\n  - {name: fleet_up, query: 'up{job=\"api\"}'}\n  - {name: unread, query: 'vector(1)'}\n");
  REQUIRE(b.source.ok());
  FamilyFilter filter;
  filter.add("fleet_up");
  CollectResult r = (*b.source)->collect(filter);
  REQUIRE(r.status.ok());
  CHECK(r.batch.size() == 3);
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].rfind("GET /api/v1/query?query=up%7Bjob%3D%22api%22%7D HTTP/1.1", 0) == 0);
}

TEST_CASE("collect: a rejected query is a warning, a dead server fails the collection") {
  TestHttpServer server([&](const std::string& request) {
    if (request.find("query=bad") != std::string::npos)
      return httpReply(400, R"({"status":"error","errorType":"bad_data","error":"parse error"})", "application/json");
    return httpReply(200, R"({"status":"success","data":{"resultType":"scalar","result":[1,"2"]}})", "application/json");
  });
  auto b = build("url: http://127.0.0.1:" + std::to_string(server.port()) +
                 "\nqueries: [{name: good, query: good}, {name: broken, query: bad}]\n");
  REQUIRE(b.source.ok());
  CollectResult r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  CHECK(samples(r.batch).at("good") == 2);
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0] == "query 'broken' (HTTP 400): bad_data: parse error");

  auto only = build("url: http://127.0.0.1:" + std::to_string(server.port()) + "\nqueries: [{name: broken, query: bad}]\n");
  REQUIRE(only.source.ok());
  r = (*only.source)->collect(FamilyFilter::everything());
  CHECK(!r.status.ok());

  auto dead = build("url: http://127.0.0.1:" + std::to_string(closedPort()) + "\nqueries: [{name: a, query: up}]\n");
  REQUIRE(dead.source.ok());
  r = (*dead.source)->collect(FamilyFilter::everything());
  REQUIRE(!r.status.ok());
  CHECK(r.batch.empty());
  CHECK(r.status.error().message.rfind("promql: ", 0) == 0);
}

}  // namespace trimtab
