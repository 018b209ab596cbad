// SPDX-License-Identifier: Apache-2.0
#include "sources/prometheus_source.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <string>

#include "sources/procfs_source.h"
#include "test_http_server.h"

namespace trimtab {
namespace {

using testing::closedPort;
using testing::gzipString;
using testing::httpReply;
using testing::TestHttpServer;

const char* kExposition =
    "# HELP http_requests_total Requests served.\n"
    "# TYPE http_requests_total counter\n"
    "http_requests_total{method=\"get\",code=\"200\"} 1027\n"
    "http_requests_total{code=\"400\",method=\"post\"} 3\n"
    "# TYPE temperature gauge\n"
    "temperature 21.5\n";

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

SourceSpec spec(const std::string& name = "web") {
  SourceSpec s;
  s.name = name;
  s.kind = "prometheus";
  s.timeout = 5;
  return s;
}

struct Built {
  std::shared_ptr<ConfigDiagnostics> diagnostics = std::make_shared<ConfigDiagnostics>();
  Result<std::unique_ptr<MetricSource>> source = makeError("not built");
};

// Builds a source through the registry from YAML params, as the controller does.
Built build(const std::string& kind, const std::string& yaml) {
  Built b;
  ConfigNode params = ConfigNode::loadString(yaml, "test.yaml", b.diagnostics);
  const auto* factory = SourceRegistry::instance().find(kind);
  REQUIRE(factory != nullptr);
  b.source = (*factory)(spec(), params);
  return b;
}

std::map<std::string, std::pair<MetricType, double>> samples(const CollectResult& r) {
  std::map<std::string, std::pair<MetricType, double>> out;
  for (std::size_t i = 0; i < r.batch.size(); ++i) {
    out[std::string(r.batch.key(i))] = {r.batch.entry(i).type, r.batch.entry(i).value};
  }
  return out;
}

TEST_CASE("prometheus: samples arrive with canonical keys and types") {
  TestHttpServer server([](const std::string&) { return httpReply(200, kExposition); });
  ::setenv("TRIMTAB_TEST_TOKEN", "s3cret", 1);
  auto b = build("prometheus", "url: " + server.url() +
                                   "\nheaders: {Authorization: 'env:TRIMTAB_TEST_TOKEN', X-Tenant: blue}\n");
  REQUIRE_MESSAGE(b.source.ok(), b.source.error().message);
  auto r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE_MESSAGE(r.status.ok(), r.status.error().message);
  CHECK(r.warnings.empty());
  auto s = samples(r);
  REQUIRE(s.size() == 3);
  CHECK(s.at("http_requests_total{code=\"200\",method=\"get\"}") == std::pair{MetricType::Counter, 1027.0});
  CHECK(s.at("http_requests_total{code=\"400\",method=\"post\"}") == std::pair{MetricType::Counter, 3.0});
  CHECK(s.at("temperature") == std::pair{MetricType::Gauge, 21.5});
  CHECK(r.duration >= 0);

  auto head = server.requests().at(0);
  CHECK(contains(head, "Accept: application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5\r\n"));
  CHECK(contains(head, "Authorization: s3cret\r\n"));
  CHECK(contains(head, "X-Tenant: blue\r\n"));
  CHECK(contains(head, "Accept-Encoding: gzip\r\n"));
}

TEST_CASE("prometheus: openmetrics false asks for the text format only") {
  TestHttpServer server([](const std::string&) { return httpReply(200, kExposition); });
  auto b = build("prometheus", "url: " + server.url() + "\nopenmetrics: false\n");
  REQUIRE_MESSAGE(b.source.ok(), b.source.error().message);
  REQUIRE((*b.source)->collect(FamilyFilter::everything()).status.ok());
  CHECK(contains(server.requests().at(0), "Accept: text/plain;version=0.0.4\r\n"));
}

TEST_CASE("prometheus: the filter skips unwanted families") {
  TestHttpServer server([](const std::string&) { return httpReply(200, kExposition); });
  PrometheusSource source(spec(), PrometheusOptions{server.url(), true, {}, {}});
  FamilyFilter filter;
  filter.add("temperature");
  auto r = source.collect(filter);
  REQUIRE(r.status.ok());
  auto s = samples(r);
  CHECK(s.size() == 1);
  CHECK(s.count("temperature") == 1);
  CHECK(r.skippedSamples == 2);
}

TEST_CASE("prometheus: a gzip body is decoded, and the parser is reused across collects") {
  std::string zipped = gzipString(kExposition);
  TestHttpServer server([&](const std::string&) {
    return httpReply(200, zipped, "text/plain; version=0.0.4", "Content-Encoding: gzip\r\n");
  });
  PrometheusSource source(spec(), PrometheusOptions{server.url(), true, {}, {}});
  for (int i = 0; i < 3; ++i) {
    auto r = source.collect(FamilyFilter::everything());
    REQUIRE_MESSAGE(r.status.ok(), r.status.error().message);
    CHECK(samples(r).size() == 3);
  }
}

TEST_CASE("prometheus: a malformed line is a warning and the rest is kept") {
  std::string body = std::string(kExposition) + "broken{ 12\ntemperature_max 30\n";
  TestHttpServer server([&](const std::string&) { return httpReply(200, body); });
  PrometheusSource source(spec(), PrometheusOptions{server.url(), true, {}, {}});
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(r.warnings[0].rfind("line 7: ", 0) == 0);
  auto s = samples(r);
  CHECK(s.size() == 4);
  CHECK(s.at("temperature_max").second == 30);
}

TEST_CASE("prometheus: an answer with nothing but bad lines is a failed scrape") {
  TestHttpServer server([](const std::string&) {
    return httpReply(200, "<html>\n<body>login</body>\n</html>\n");
  });
  PrometheusSource source(spec(), PrometheusOptions{server.url(), true, {}, {}});
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK_MESSAGE(r.status.error().message.find(": 3 of its 3 lines rejected (first: line 1: ") != std::string::npos,
                r.status.error().message);
  // An empty answer, or one with only metadata and a bad line, is not.
  TestHttpServer empty([](const std::string&) { return httpReply(200, "# nothing yet\n"); });
  CHECK(PrometheusSource(spec(), PrometheusOptions{empty.url(), true, {}, {}}).collect(FamilyFilter::everything()).status.ok());
  TestHttpServer metadata([](const std::string&) {
    return httpReply(200, "# HELP up_total x\n# TYPE up_total counter\n# TYPE up_total gauge\n");
  });
  CHECK(PrometheusSource(spec(), PrometheusOptions{metadata.url(), true, {}, {}})
            .collect(FamilyFilter::everything())
            .status.ok());
  // A page of 3,000 lines is counted whole (errors are recorded up to a cap).
  std::string page;
  for (int i = 0; i < 3000; ++i) page += "<p>line</p>\n";
  TestHttpServer big([&](const std::string&) { return httpReply(200, page); });
  auto bigResult = PrometheusSource(spec(), PrometheusOptions{big.url(), true, {}, {}}).collect(FamilyFilter::everything());
  REQUIRE_FALSE(bigResult.status.ok());
  CHECK_MESSAGE(bigResult.status.error().message.find(": 3000 of its 3000 lines rejected") != std::string::npos,
                bigResult.status.error().message);
}

TEST_CASE("prometheus: the Content-Type picks the format") {
  // OpenMetrics requires "# EOF": its absence is reported only in that format.
  TestHttpServer server([](const std::string& req) {
    if (contains(req, "GET /om ")) {
      return httpReply(200, kExposition, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    }
    return httpReply(200, kExposition, "text/plain; version=0.0.4");
  });
  PrometheusSource om(spec(), PrometheusOptions{server.url("/om"), true, {}, {}});
  auto r = om.collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  REQUIRE(r.warnings.size() == 1);
  CHECK(contains(r.warnings[0], "# EOF"));
  PrometheusSource text(spec(), PrometheusOptions{server.url("/text"), true, {}, {}});
  CHECK(text.collect(FamilyFilter::everything()).warnings.empty());
}

TEST_CASE("prometheus: server down, HTTP errors and oversized bodies fail the collection") {
  PrometheusOptions down{"http://127.0.0.1:" + std::to_string(closedPort()) + "/metrics", true, {}, {}};
  auto r = PrometheusSource(spec(), down).collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, down.url));
  CHECK(r.batch.empty());

  TestHttpServer server([](const std::string& req) {
    if (contains(req, "GET /fail ")) return httpReply(503, "overloaded");
    return httpReply(200, kExposition);
  });
  auto failed = PrometheusSource(spec(), PrometheusOptions{server.url("/fail"), true, {}, {}})
                    .collect(FamilyFilter::everything());
  REQUIRE_FALSE(failed.status.ok());
  CHECK(failed.status.error().message == "HTTP 503 from " + server.url("/fail"));

  PrometheusOptions small{server.url(), true, {}, {}};
  small.limits.maxBodyBytes = 20;
  auto big = PrometheusSource(spec(), small).collect(FamilyFilter::everything());
  REQUIRE_FALSE(big.status.ok());
  CHECK(contains(big.status.error().message, "body larger than 20 bytes"));
}

TEST_CASE("prometheus: a header secret from an unset variable fails without leaking anything") {
  TestHttpServer server([](const std::string&) { return httpReply(200, kExposition); });
  ::unsetenv("TRIMTAB_TEST_UNSET");
  PrometheusSource source(spec(), PrometheusOptions{server.url(), true, {{"Authorization", "env:TRIMTAB_TEST_UNSET"}}, {}});
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK(r.status.error().message == "header 'Authorization': environment variable TRIMTAB_TEST_UNSET is not set");
  CHECK(server.requests().empty());
}

TEST_CASE("prometheus factory: errors name the key") {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  for (const Case& c : {
           Case{"openmetrics: true\n", "url: missing required key"},
           Case{"url: https://example.org/metrics\n", "url: https is not supported"},
           Case{"url: localhost:9100\n", "url: invalid URL"},
           Case{"url: http://h/\nlimits: {max_body: 0}\n", "limits.max_body: expected a size from 1B"},
           Case{"url: http://h/\nlimits: {max_body: 2GiB}\n", "limits.max_body: expected a size from 1B"},
           Case{"url: http://h/\nlimits: {max_labels: -1}\n", "limits.max_labels: expected a positive integer"},
           Case{"url: http://h/\nlimits: {max_series: lots}\n", "limits.max_series"},
           Case{"url: http://h/\nlimits: {max_lines: 5}\n", "unknown key 'max_lines' (did you mean 'max_line'?)"},
           Case{"url: http://h/\nlimits: 5\n", "limits: expected a mapping"},
           Case{"url: http://h/\nopenmetric: false\n", "did you mean 'openmetrics'?"},
           Case{"url: http://h/\nheaders: {'Bad Name': x}\n", "headers: invalid header name 'Bad Name'"},
           Case{"url: http://h/\nheaders: {Authorization: 'env:1X'}\n", "expected env:VARIABLE_NAME"},
       }) {
    CAPTURE(c.yaml);
    auto b = build("prometheus", c.yaml);
    REQUIRE_FALSE(b.source.ok());
    CHECK(contains(b.diagnostics->format(), c.expected));
    CHECK(contains(b.source.error().message, "source 'web': invalid settings: test.yaml:"));
    CHECK(contains(b.source.error().message, c.expected));
  }
}

TEST_CASE("prometheus factory: valid limits are accepted and applied") {
  TestHttpServer server([](const std::string&) { return httpReply(200, kExposition); });
  auto b = build("prometheus", "url: " + server.url() +
                                   "\nlimits: {max_body: 1KiB, max_line: 100B, max_labels: 1, max_series: 2}\n");
  REQUIRE_MESSAGE(b.source.ok(), b.source.error().message);
  CHECK(b.diagnostics->empty());
  auto r = (*b.source)->collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  // max_labels 1 rejects the two-label lines; max_series 2 keeps the rest.
  CHECK(samples(r).size() == 1);
  CHECK(r.warnings.size() == 2);
}

TEST_CASE("procfs factory: exactly one target, and errors name the key") {
  struct Case {
    std::string yaml;
    std::string expected;
  };
  for (const Case& c : {
           Case{"proc_root: /proc\n", "one of pid, pid_file or cmdline is required"},
           Case{"pid: 1\ncmdline: redis\n", "give only one of pid, pid_file or cmdline (got pid, cmdline)"},
           Case{"pid: 0\n", "pid: expected a positive process id"},
           Case{"pid: abc\n", "pid:"},
           Case{"cmdline: ''\n", "cmdline"},
           Case{"pid: 1\npid_fle: x\n", "unknown key 'pid_fle' (did you mean 'pid_file'?)"},
       }) {
    CAPTURE(c.yaml);
    auto b = build("procfs", c.yaml);
    REQUIRE_FALSE(b.source.ok());
    CHECK(contains(b.diagnostics->format(), c.expected));
  }
  auto ok = build("procfs", "pid_file: run/app.pid\n");
  REQUIRE_MESSAGE(ok.source.ok(), ok.source.error().message);
  CHECK(ok.diagnostics->empty());
  // The factory did no I/O: the pid file does not exist, and only collect says so.
  auto r = (*ok.source)->collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, "run/app.pid"));
}

}  // namespace
}  // namespace trimtab
