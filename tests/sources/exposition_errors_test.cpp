// SPDX-License-Identifier: Apache-2.0
// Malformed expositions: each bad line is reported with its line number and a
// specific message, skipped, and the rest of the body is kept.
#include <doctest/doctest.h>

#include <random>

#include "exposition_test_util.h"

using namespace trimtab;
using trimtab::test::om;
using trimtab::test::prom;

namespace {

// Parses `good 1`, then the bad line, then `after 2`, and checks the bad line
// is line 2 with a message containing `expected`, while both good lines stay.
void checkBadLine(const std::string& bad, const std::string& expected,
                  ExpositionFormat format = ExpositionFormat::Prometheus004, ExpositionLimits limits = {}) {
  CAPTURE(bad);
  std::string body = "good 1\n" + bad + "\nafter 2\n";
  if (format == ExpositionFormat::OpenMetrics) body += "# EOF\n";
  auto p = test::parseWith(body, format, FamilyFilter::everything(), limits);
  CAPTURE(p.allErrors());
  REQUIRE(p.stats.errors.size() == 1);
  CHECK(p.stats.errors[0].line == 2);
  CHECK(p.stats.errors[0].message.find(expected) != std::string::npos);
  REQUIRE(p.samples.size() == 2);
  CHECK(p.samples[0].name == "good");
  CHECK(p.samples[1].name == "after");
  CHECK(p.samples[1].line == 3);
}

}  // namespace

TEST_CASE("malformed sample lines") {
  checkBadLine("9abc 1", "invalid metric name: it must start with a letter");
  checkBadLine("{a=\"b\"} 1", "missing metric name");
  checkBadLine("foo-bar 1", "invalid character '-' in metric name 'foo'");
  checkBadLine("foo{a=\"b 1", "unterminated value of label 'a'");
  checkBadLine("foo{a=\"b\\", "unterminated value of label 'a'");
  checkBadLine("foo{a=\"b\\q\"} 1", "invalid escape '\\q' in the value of label 'a'");
  checkBadLine("foo{a=\"b\"}", "missing value after 'foo'");
  checkBadLine("foo", "missing value after 'foo'");
  checkBadLine("foo ", "missing value after 'foo'");
  checkBadLine("foo abc", "invalid value: 'abc'");
  checkBadLine("foo 1_000", "invalid value: '1_000'");
  checkBadLine("foo 0x10", "invalid value: '0x10'");
  checkBadLine("foo +-1", "invalid value: '+-1'");
  checkBadLine("foo +NaN", "invalid value: '+NaN'");
  checkBadLine("foo 1e400", "value out of range: '1e400'");
  checkBadLine("foo{a=\"1\",a=\"2\"} 1", "duplicate label name 'a'");
  checkBadLine("foo{1a=\"1\"} 1", "invalid label name: it must start with a letter or '_', found '1'");
  checkBadLine("foo{a:b=\"1\"} 1", "expected '=' after label name 'a', found ':'");
  checkBadLine("foo{a} 1", "expected '=' after label name 'a'");
  checkBadLine("foo{a=b} 1", "expected '\"' to open the value of label 'a'");
  checkBadLine("foo{a=\"1\" b=\"2\"} 1", "expected ',' or '}' after the value of label 'a', found 'b'");
  checkBadLine("foo{a=\"1\"", "unterminated label set: missing '}'");
  checkBadLine("foo{a=\"1\"}1", "expected a space before the value, found '1'");
  checkBadLine("foo 1 1.5", "invalid timestamp (integer ms): '1.5'");
  checkBadLine("foo 1 99999999999999999999", "timestamp (integer ms) out of range");
  checkBadLine("foo 1 2 3", "unexpected text after the sample: '3'");
  checkBadLine("foo 1 # {a=\"b\"} 1", "exemplars ('# {...}' after the value) are OpenMetrics only");
  checkBadLine("foo\x01 1", "invalid character byte \\x01 in metric name 'foo'");
}

TEST_CASE("malformed openmetrics lines") {
  const auto kOm = ExpositionFormat::OpenMetrics;
  checkBadLine("foo 1 Inf", "timestamp (float seconds) out of range", kOm);
  checkBadLine("foo 1 abc", "invalid timestamp (float seconds): 'abc'", kOm);
  checkBadLine("foo_total 1 # {a=\"b\"}", "exemplar: missing value after its labels", kOm);
  checkBadLine("foo_total 1 # {a=\"b\"} x", "invalid exemplar value: 'x'", kOm);
  checkBadLine("foo_total 1 # {a=\"b\"} 1 y", "invalid exemplar timestamp: 'y'", kOm);
  checkBadLine("foo_total 1 # a=\"b\" 1", "exemplar: expected '{' to open its labels", kOm);
  checkBadLine("foo_total 1 #{a=\"b\"} 1", "exemplar: expected a space after '#'", kOm);
  checkBadLine("foo_total 1 # {a=\"b\\x\"} 1", "invalid escape '\\x' in the value of label 'a'", kOm);
  checkBadLine("foo_total 1 # {a=\"" + std::string(130, 'x') + "\"} 1",
               "exemplar: labels of 131 characters exceed the limit of 128", kOm);
  checkBadLine("", "empty line (OpenMetrics allows none)", kOm);
  checkBadLine("# free comment", "invalid comment: OpenMetrics allows only", kOm);
  checkBadLine("# TYPE x untyped", "unknown metric type 'untyped' (expected counter, gauge, histogram, "
               "gaugehistogram, summary, info, stateset or unknown)", kOm);
  checkBadLine("# UNIT x_bytes seconds", "metric name 'x_bytes' must end with '_seconds'", kOm);
  checkBadLine("# HELP x bad \\t escape", "invalid escape '\\t' in HELP text (allowed: \\\\, \\n, \\\")", kOm);
}

TEST_CASE("malformed metadata lines") {
  checkBadLine("# TYPE x blob",
               "unknown metric type 'blob' (expected counter, gauge, histogram, summary or untyped)");
  checkBadLine("# TYPE x", "missing type after '# TYPE x'");
  checkBadLine("# TYPE x gauge extra", "unexpected text after the type");
  checkBadLine("# TYPE 1x gauge", "invalid metric name in '# TYPE', found '1'");
  checkBadLine("# HELP", "missing metric name after '# HELP'");
  checkBadLine("# HELP x trailing \\", "HELP text ends with a lone '\\'");

  auto twice = prom("# TYPE a gauge\n# TYPE a counter\na 1\n");
  CHECK(twice.errorAt(2) == "second TYPE line for 'a'");
  CHECK(twice.samples.at(0).type == MetricType::Gauge);

  auto late = prom("a 1\n# TYPE a counter\n# HELP a late\n");
  CHECK(late.errorAt(2) == "TYPE for 'a' after its samples");
  CHECK(late.errorAt(3) == "HELP for 'a' after its samples");

  auto helps = prom("# HELP a one\n# HELP a two\na 1\n");
  CHECK(helps.errorAt(2) == "second HELP line for 'a'");
  CHECK(helps.families.at(0).help == "one");
}

TEST_CASE("openmetrics EOF: required, and last") {
  auto missing = om("# TYPE a gauge\na 1\nb 2\n");
  REQUIRE(missing.stats.errors.size() == 1);
  CHECK(missing.errorAt(3) == "missing '# EOF' at the end of an OpenMetrics exposition");
  CHECK(missing.samples.size() == 2);

  auto after = om("a 1\n# EOF\nb 2\nc 3\n");
  REQUIRE(after.stats.errors.size() == 1);
  CHECK(after.errorAt(3).find("content after '# EOF'") != std::string::npos);
  CHECK(after.samples.size() == 1);
  CHECK(after.stats.sawEof);

  auto trailingBlank = om("a 1\n# EOF\n\n");
  CHECK(trailingBlank.stats.errors.empty());

  auto eofWithText = om("a 1\n# EOF now\n");
  CHECK(eofWithText.errorAt(2).find("invalid comment") != std::string::npos);
  CHECK(eofWithText.stats.errors.size() == 2);  // and the EOF is still missing

  // In Prometheus 0.0.4 "# EOF" is just a comment.
  auto promEof = prom("a 1\n# EOF\nb 2\n");
  CHECK(promEof.stats.errors.empty());
  CHECK(promEof.samples.size() == 2);
}

TEST_CASE("limits: labels per series and line length") {
  ExpositionLimits limits;
  limits.maxLabelsPerSeries = 3;
  checkBadLine("foo{a=\"1\",b=\"2\",c=\"3\",d=\"4\"} 1", "more than 3 labels (limits.max_labels)",
               ExpositionFormat::Prometheus004, limits);
  auto ok = prom("foo{a=\"1\",b=\"2\",c=\"3\"} 1\n", limits);
  CHECK(ok.stats.errors.empty());

  ExpositionLimits shortLines;
  shortLines.maxLineBytes = 20;
  checkBadLine("foo{a=\"12345678901234\"} 1", "line of 25 bytes exceeds the limit of 20 bytes (limits.max_line)",
               ExpositionFormat::Prometheus004, shortLines);
}

TEST_CASE("limits: body size rejects everything up front") {
  ExpositionLimits limits;
  limits.maxBodyBytes = 10;
  auto p = prom("a 1\nb 2\nc 3\n", limits);
  REQUIRE(p.stats.errors.size() == 1);
  CHECK(p.stats.errors[0].line == 0);
  CHECK(p.stats.errors[0].message ==
        "body of 12 bytes exceeds the limit of 10 bytes (maxBodyBytes); nothing parsed");
  CHECK(p.samples.empty());
  CHECK(p.stats.bytes == 12);
}

TEST_CASE("limits: series per scrape drops and counts the rest with one error") {
  ExpositionLimits limits;
  limits.maxSeriesPerScrape = 2;
  auto p = prom("a 1\nb 2\nc 3\n# TYPE d gauge\nd 4\nbad{ 5\n", limits);
  REQUIRE(p.stats.errors.size() == 1);
  CHECK(p.stats.errors[0].line == 3);
  CHECK(p.stats.errors[0].message.find("limits.max_series = 2") != std::string::npos);
  CHECK(p.stats.errors[0].message.find("3 in all") != std::string::npos);
  CHECK(p.samples.size() == 2);
  CHECK(p.stats.samplesDropped == 3);
  CHECK(p.stats.rejectedLines() == 3);
}

TEST_CASE("errors are capped, counted beyond the cap, and never crash on garbage") {
  std::string body;
  for (std::size_t i = 0; i < kMaxRecordedExpositionErrors + 50; ++i) body += "bad{\n";
  body += "good 1\n";
  auto p = prom(body);
  CHECK(p.stats.errors.size() == kMaxRecordedExpositionErrors);
  CHECK(p.stats.errorsNotRecorded == 50);
  CHECK(p.stats.rejectedLines() == kMaxRecordedExpositionErrors + 50);
  CHECK(p.samples.size() == 1);

  std::mt19937 rng(42);
  std::uniform_int_distribution<int> byte(0, 255);
  const char alphabet[] = "ab_:{}=\",\\ #\n\r\t01.eE+-InfNa";
  for (int round = 0; round < 200; ++round) {
    std::string junk;
    for (int i = 0; i < 300; ++i) {
      junk += round % 2 ? static_cast<char>(byte(rng)) : alphabet[byte(rng) % (sizeof alphabet - 1)];
    }
    auto a = prom(junk);
    auto b = om(junk);
    CHECK(a.stats.lines >= 1);
    for (const auto& e : a.stats.errors) CHECK(e.line >= 1);
    for (const auto& s : b.samples) CHECK(!s.name.empty());
  }
}
