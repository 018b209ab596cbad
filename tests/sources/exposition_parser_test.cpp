// SPDX-License-Identifier: Apache-2.0
// Valid expositions: formats, escapes, values, timestamps, families, filters.
#include <doctest/doctest.h>

#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "exposition_test_util.h"
#include "sources/exposition_lex.h"

using namespace trimtab;
using trimtab::test::om;
using trimtab::test::prom;

TEST_CASE("prometheus 0.0.4: HELP, TYPE, labels, timestamps, untyped") {
  auto p = prom(
      "# HELP http_requests_total The total number of HTTP requests.\n"
      "# TYPE http_requests_total counter\n"
      "http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
      "http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
      "\n"
      "# a free comment is ignored\n"
      "# TYPE queue_depth gauge\n"
      "queue_depth 7.5\n"
      "metric_without_timestamp_and_labels 12.47\n"
      "trailing_comma{a=\"1\",} 2\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 5);
  CHECK(p.stats.samplesParsed == 5);
  CHECK(p.stats.lines == 10);
  CHECK_FALSE(p.stats.sawEof);

  const auto& s0 = p.samples[0];
  CHECK(s0.name == "http_requests_total");
  CHECK(s0.family == "http_requests_total");
  CHECK(s0.type == MetricType::Counter);
  CHECK(s0.label("method") == "post");
  CHECK(s0.label("code") == "200");
  CHECK(s0.value == 1027);
  CHECK(s0.hasTimestamp);
  CHECK(s0.timestamp == doctest::Approx(1395066363.0));
  CHECK(s0.line == 3);
  CHECK(p.samples[1].value == 3);

  CHECK(p.samples[2].type == MetricType::Gauge);
  CHECK_FALSE(p.samples[2].hasTimestamp);
  CHECK(p.samples[3].type == MetricType::Unknown);
  CHECK(p.samples[3].family == "metric_without_timestamp_and_labels");
  CHECK(p.samples[4].label("a") == "1");

  REQUIRE(p.families.size() == 4);
  CHECK(p.families[0].name == "http_requests_total");
  CHECK(p.families[0].help == "The total number of HTTP requests.");
  CHECK(p.families[0].type == MetricType::Counter);
  CHECK(p.families[1].name == "queue_depth");
  CHECK(p.families[1].help.empty());
  CHECK(p.families[2].type == MetricType::Unknown);
  CHECK(p.stats.families == 4);
}

TEST_CASE("openmetrics: UNIT, counters with _total/_created, float timestamps, EOF") {
  auto p = om(
      "# TYPE acme_http_router_request_seconds summary\n"
      "# UNIT acme_http_router_request_seconds seconds\n"
      "# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.\n"
      "acme_http_router_request_seconds_sum{path=\"/api/v1\",method=\"GET\"} 9036.32\n"
      "acme_http_router_request_seconds_count{path=\"/api/v1\",method=\"GET\"} 807283.0\n"
      "acme_http_router_request_seconds_created{path=\"/api/v1\",method=\"GET\"} 1605281325.0\n"
      "# TYPE go_goroutines gauge\n"
      "go_goroutines 69 1605281325.25\n"
      "# TYPE process_cpu_seconds counter\n"
      "# UNIT process_cpu_seconds seconds\n"
      "process_cpu_seconds_total 4.20072246e+06\n"
      "process_cpu_seconds_created 1.5e9\n"
      "# EOF\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  CHECK(p.stats.sawEof);
  REQUIRE(p.samples.size() == 6);
  for (int i = 0; i < 3; ++i) {
    CHECK(p.samples[i].family == "acme_http_router_request_seconds");
    CHECK(p.samples[i].type == MetricType::Summary);
  }
  CHECK(p.samples[3].timestamp == 1605281325.25);
  CHECK(p.samples[4].name == "process_cpu_seconds_total");
  CHECK(p.samples[4].family == "process_cpu_seconds");
  CHECK(p.samples[4].type == MetricType::Counter);
  CHECK(p.samples[4].value == 4.20072246e+06);
  CHECK(p.samples[5].type == MetricType::Counter);
  REQUIRE(p.families.size() == 3);
  CHECK(p.families[0].unit == "seconds");
  CHECK(p.families[0].help == "Latency though all of ACME's HTTP request router.");
  CHECK(p.families[2].unit == "seconds");
}

TEST_CASE("openmetrics types: gaugehistogram, info, stateset, unknown") {
  auto p = om(
      "# TYPE q gaugehistogram\n"
      "q_bucket{le=\"+Inf\"} 3\n"
      "q_gcount 3\n"
      "q_gsum 7\n"
      "# TYPE build info\n"
      "build_info{version=\"1.2\"} 1\n"
      "# TYPE feature stateset\n"
      "feature{feature=\"a\"} 1\n"
      "# TYPE thing unknown\n"
      "thing 5\n"
      "# EOF\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 6);
  for (int i = 0; i < 3; ++i) {
    CHECK(p.samples[i].family == "q");
    CHECK(p.samples[i].type == MetricType::GaugeHistogram);
  }
  CHECK(p.samples[3].family == "build");
  CHECK(p.samples[3].type == MetricType::Info);
  CHECK(p.samples[4].type == MetricType::StateSet);
  CHECK(p.samples[5].type == MetricType::Unknown);
  CHECK(p.families.size() == 4);
}

TEST_CASE("histogram and summary series map to their family") {
  auto p = prom(
      "# HELP rpc_duration_seconds A summary of the RPC duration in seconds.\n"
      "# TYPE rpc_duration_seconds summary\n"
      "rpc_duration_seconds{quantile=\"0.5\"} 4773\n"
      "rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
      "rpc_duration_seconds_sum 1.7560473e+07\n"
      "rpc_duration_seconds_count 2693\n"
      "# TYPE http_request_duration_seconds histogram\n"
      "http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
      "http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
      "http_request_duration_seconds_sum 53423\n"
      "http_request_duration_seconds_count 144320\n"
      "http_request_duration_seconds_created 1.5e9\n"
      "http_request_duration_seconds_other 1\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 10);
  for (int i = 0; i < 4; ++i) {
    CHECK(p.samples[i].family == "rpc_duration_seconds");
    CHECK(p.samples[i].type == MetricType::Summary);
  }
  for (int i = 4; i < 9; ++i) {
    CHECK(p.samples[i].family == "http_request_duration_seconds");
    CHECK(p.samples[i].type == MetricType::Histogram);
  }
  CHECK(p.samples[5].label("le") == "+Inf");
  // Not a histogram suffix: a family of its own, untyped.
  CHECK(p.samples[9].family == "http_request_duration_seconds_other");
  CHECK(p.samples[9].type == MetricType::Unknown);
  REQUIRE(p.families.size() == 3);
  CHECK(p.families[1].type == MetricType::Histogram);
}

TEST_CASE("label value escapes and awkward characters") {
  auto p = prom(
      "m{path=\"C:\\\\dir\\\\file\",q=\"say \\\"hi\\\"\",nl=\"a\\nb\",empty=\"\"} 1\n"
      "m{odd=\"{},= #x\"} 2\n"
      "m{utf8=\"caf\xc3\xa9 \xe2\x82\xac\"} 3\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 3);
  CHECK(p.samples[0].label("path") == "C:\\dir\\file");
  CHECK(p.samples[0].label("q") == "say \"hi\"");
  CHECK(p.samples[0].label("nl") == "a\nb");
  CHECK(p.samples[0].label("empty") == "");
  CHECK(p.samples[1].label("odd") == "{},= #x");
  CHECK(p.samples[2].label("utf8") == "caf\xc3\xa9 \xe2\x82\xac");
}

TEST_CASE("HELP escapes per format") {
  auto p = prom("# HELP a Line one\\nback\\\\slash\n# TYPE a gauge\na 1\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.families.size() == 1);
  CHECK(p.families[0].help == "Line one\nback\\slash");

  auto o = om("# HELP a Say \\\"x\\\"\\n\n# TYPE a gauge\na 1\n# HELP b plain\nb 2\n# EOF\n");
  REQUIRE_MESSAGE(o.stats.errors.empty(), o.allErrors());
  REQUIRE(o.families.size() == 2);
  CHECK(o.families[0].help == "Say \"x\"\n");
  CHECK(o.families[1].help == "plain");

  // \" is an OpenMetrics escape only.
  auto bad = prom("# HELP a Say \\\"x\\\"\na 1\n");
  CHECK(bad.errorAt(1).find("invalid escape '\\\"' in HELP") != std::string::npos);
  CHECK(bad.samples.size() == 1);
}

TEST_CASE("edge values") {
  auto p = prom(
      "v{k=\"nan\"} NaN\n"
      "v{k=\"pinf\"} +Inf\n"
      "v{k=\"ninf\"} -Inf\n"
      "v{k=\"inf\"} Inf\n"
      "v{k=\"negzero\"} -0\n"
      "v{k=\"big\"} 1e308\n"
      "v{k=\"tiny\"} 4.9e-324\n"
      "v{k=\"plus\"} +5\n"
      "v{k=\"dot\"} .5\n"
      "v{k=\"exp\"} -1.5E+3\n"
      "v{k=\"lower\"} nan\n"
      "v{k=\"word\"} -infinity\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 12);
  CHECK(std::isnan(p.samples[0].value));
  CHECK(p.samples[1].value == std::numeric_limits<double>::infinity());
  CHECK(p.samples[2].value == -std::numeric_limits<double>::infinity());
  CHECK(p.samples[3].value == std::numeric_limits<double>::infinity());
  CHECK(p.samples[4].value == 0.0);
  CHECK(std::signbit(p.samples[4].value));
  CHECK(p.samples[5].value == 1e308);
  CHECK(p.samples[6].value > 0);
  CHECK(p.samples[7].value == 5);
  CHECK(p.samples[8].value == 0.5);
  CHECK(p.samples[9].value == -1500);
  CHECK(std::isnan(p.samples[10].value));
  CHECK(p.samples[11].value == -std::numeric_limits<double>::infinity());
}

TEST_CASE("timestamps become seconds") {
  auto p = prom("a 1 1700000000123\nb 1 -1000\nc 1 0\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  CHECK(p.samples[0].timestamp == doctest::Approx(1700000000.123).epsilon(1e-15));
  CHECK(p.samples[1].timestamp == -1.0);
  CHECK(p.samples[2].hasTimestamp);
  CHECK(p.samples[2].timestamp == 0.0);

  auto o = om("a 1 1700000000.5\nb 1 17e8\n# EOF\n");
  REQUIRE_MESSAGE(o.stats.errors.empty(), o.allErrors());
  CHECK(o.samples[0].timestamp == 1700000000.5);
  CHECK(o.samples[1].timestamp == 1.7e9);
}

TEST_CASE("openmetrics exemplars are validated and ignored") {
  auto p = om(
      "# TYPE foo histogram\n"
      "foo_bucket{le=\"0.01\"} 0\n"
      "foo_bucket{le=\"0.1\"} 8 # {} 0.054\n"
      "foo_bucket{le=\"1\"} 11 # {trace_id=\"KOO5S4vxi0o\"} 0.67\n"
      "foo_bucket{le=\"10\"} 17 # {trace_id=\"oHg5SJYRHA0\"} 9.8 1520879607.789\n"
      "foo_bucket{le=\"+Inf\"} 17 1520879600 # {trace_id=\"x\\\"y\"} 1.0 1.5\n"
      "foo_count 17\n"
      "foo_sum 324789.3\n"
      "# EOF\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 7);
  CHECK(p.samples[2].value == 11);
  CHECK(p.samples[2].labels.size() == 1);  // the exemplar's labels are not the sample's
  CHECK(p.samples[4].timestamp == 1520879600);
  CHECK(p.samples[4].label("le") == "+Inf");
}

TEST_CASE("windows line endings are tolerated") {
  auto p = prom("# HELP a Help.\r\n# TYPE a gauge\r\na{x=\"1\"} 1\r\nb 2 1000\r\n");
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 2);
  CHECK(p.families[0].help == "Help.");
  CHECK(p.samples[0].type == MetricType::Gauge);
  CHECK(p.samples[1].timestamp == 1.0);

  auto o = om("# TYPE a gauge\r\na 1\r\n# EOF\r\n");
  REQUIRE_MESSAGE(o.stats.errors.empty(), o.allErrors());
  CHECK(o.stats.sawEof);
}

TEST_CASE("empty bodies and bodies without a final newline") {
  auto p = prom("");
  CHECK(p.stats.errors.empty());
  CHECK(p.samples.empty());
  CHECK(p.stats.lines == 0);

  auto o = om("");
  REQUIRE(o.stats.errors.size() == 1);
  CHECK(o.errorAt(1).find("missing '# EOF'") != std::string::npos);

  auto n = prom("a 1\nb 2");
  CHECK(n.stats.errors.empty());
  CHECK(n.samples.size() == 2);
  CHECK(n.samples[1].value == 2);

  auto e = om("a 1\n# EOF");
  CHECK(e.stats.errors.empty());
  CHECK(e.stats.sawEof);
}

TEST_CASE("filtered parse reads only wanted names and counts the rest") {
  const std::string body =
      "# HELP h A histogram.\n"
      "# TYPE h histogram\n"
      "h_bucket{le=\"1\"} 1\n"
      "h_bucket{le=\"+Inf\"} 2\n"
      "h_sum 3\n"
      "h_count 2\n"
      "# TYPE g gauge\n"
      "g{a=\"1\"} 5\n"
      "g{broken 5\n"  // not wanted: skipped after its name, not validated
      "# TYPE c counter\n"
      "c 7\n";
  FamilyFilter filter;
  filter.add("h_bucket");
  filter.add("c");
  auto p = test::parseWith(body, ExpositionFormat::Prometheus004, filter);
  REQUIRE_MESSAGE(p.stats.errors.empty(), p.allErrors());
  REQUIRE(p.samples.size() == 3);
  CHECK(p.stats.samplesParsed == 3);
  CHECK(p.stats.samplesSkipped == 4);
  CHECK(p.samples[0].family == "h");
  CHECK(p.samples[0].type == MetricType::Histogram);
  CHECK(p.samples[2].name == "c");
  CHECK(p.samples[2].type == MetricType::Counter);
  // onFamily only for families with a wanted sample.
  REQUIRE(p.families.size() == 2);
  CHECK(p.families[0].name == "h");
  CHECK(p.families[0].help == "A histogram.");
  CHECK(p.families[1].name == "c");

  auto full = test::prom(body);
  CHECK(full.stats.errors.size() == 1);
  CHECK(full.samples.size() == 6);
}

TEST_CASE("real node_exporter scrape parses with no error") {
  const std::string body = test::readFixture("node_exporter.prom");
  REQUIRE(body.size() > 50000);
  std::size_t sampleLines = 0;
  std::size_t typeLines = 0;
  std::size_t start = 0;
  while (start < body.size()) {
    std::size_t nl = body.find('\n', start);
    if (nl == std::string::npos) nl = body.size();
    if (nl > start && body[start] != '#') ++sampleLines;
    if (body.compare(start, 7, "# TYPE ") == 0) ++typeLines;
    start = nl + 1;
  }
  CHECK(sampleLines == 505);  // grep -v '^#' node_exporter.prom | grep -c .
  auto p = prom(body);
  CHECK_MESSAGE(p.stats.errors.empty(), p.allErrors());
  CHECK(p.stats.samplesParsed == sampleLines);
  CHECK(p.stats.families == typeLines);
  CHECK(p.stats.bytes == body.size());
}

TEST_CASE("formatFromContentType") {
  CHECK(formatFromContentType("application/openmetrics-text; version=1.0.0; charset=utf-8") ==
        ExpositionFormat::OpenMetrics);
  CHECK(formatFromContentType("Application/OpenMetrics-Text") == ExpositionFormat::OpenMetrics);
  CHECK(formatFromContentType("text/plain; version=0.0.4") == ExpositionFormat::Prometheus004);
  CHECK(formatFromContentType("") == ExpositionFormat::Prometheus004);
}

TEST_CASE("the fast decimal path gives from_chars' double, bit for bit") {
  std::mt19937_64 rng(2024);
  std::uniform_int_distribution<int> len(1, 21);
  std::uniform_int_distribution<int> digit(0, 9);
  for (int i = 0; i < 20000; ++i) {
    std::string text = i % 3 == 0 ? "-" : "";
    int intDigits = len(rng) - 1, fracDigits = i % 4 == 0 ? 0 : len(rng) - 1;
    for (int k = 0; k < intDigits; ++k) text += static_cast<char>('0' + digit(rng));
    if (fracDigits > 0 || i % 5 == 0) text += '.';
    for (int k = 0; k < fracDigits; ++k) text += static_cast<char>('0' + digit(rng));
    CAPTURE(text);
    double expected = 0;
    auto r = std::from_chars(text.data(), text.data() + text.size(), expected);
    double fast = 0;
    const char* end = lex::parseSimpleDecimal(text.data(), text.data() + text.size(), fast);
    if (end != nullptr) {
      REQUIRE(r.ec == std::errc());
      CHECK(end == text.data() + text.size());
      CHECK(std::memcmp(&fast, &expected, sizeof fast) == 0);
    }
    double parsed = 0;
    if (r.ec == std::errc() && r.ptr == text.data() + text.size()) {
      CHECK(lex::parseValue(text.data(), text.data() + text.size(), parsed) == lex::NumberError::None);
    }
  }
  double v = 0;
  const std::string exp = "1e5";
  CHECK(lex::parseSimpleDecimal(exp.data(), exp.data() + exp.size(), v) == nullptr);  // exponents: slow path
}

TEST_CASE("the vectorised name scan stops where the character table says") {
  std::mt19937 rng(99);
  const std::string pool = "abzAZ09_:-{}=\" \t.\x7f\x80\xff/@[`";
  std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 1);
  std::uniform_int_distribution<int> len(0, 60);
  for (int i = 0; i < 5000; ++i) {
    std::string s;
    const int n = len(rng);
    for (int k = 0; k < n; ++k) s += pool[i % 2 ? pick(rng) % 9 : pick(rng)];  // odd: mostly name chars
    CAPTURE(s);
    const char* b = s.data();
    const char* e = b + s.size();
    CHECK(lex::skipNameChars<true>(b, e) == lex::skip(b, e, lex::kNameChar));
    CHECK(lex::skipNameChars<false>(b, e) == lex::skip(b, e, lex::kLabelChar));
  }
}
