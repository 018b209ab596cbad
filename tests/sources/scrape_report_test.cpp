// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>
#include <sstream>

#include "sources/scrape_report.h"

using namespace trimtab;

namespace {

const char* const kBody =
    "# HELP req Requests.\n"
    "# TYPE req counter\n"
    "req{method=\"GET\",code=\"200\"} 5 1700000000123\n"
    "req{code=\"x\\ny\"} +Inf\n"
    "req{bad=\"\\q\"} 1\n"
    "temp -0.25\n"
    "bad line\n";

}  // namespace

TEST_CASE("scrape report: series by family, then errors, then a summary") {
  std::ostringstream out;
  int rejected = writeScrapeReport(kBody, ExpositionFormat::Prometheus004, ExpositionLimits{}, out);
  CHECK(rejected == 2);
  CHECK(out.str() ==
        "# family req counter Requests.\n"
        "counter  req{code=\"200\",method=\"GET\"}  5  @1700000000.123\n"
        "counter  req{code=\"x\\ny\"}  +Inf\n"
        "# family temp unknown\n"
        "unknown  temp  -0.25\n"
        "line 5: invalid escape '\\q' in the value of label 'bad' (allowed: \\\\, \\\", \\n)\n"
        "line 7: invalid value: 'line'\n"
        "families=2 series=3 errors=2 dropped=0 bytes=" + std::to_string(std::string(kBody).size()) + "\n");
}

TEST_CASE("scrape report: clean body returns 0; body-wide errors say so") {
  std::ostringstream clean;
  CHECK(writeScrapeReport("a 1\n# EOF\n", ExpositionFormat::OpenMetrics, ExpositionLimits{}, clean) == 0);

  ExpositionLimits tiny;
  tiny.maxBodyBytes = 4;
  std::ostringstream big;
  CHECK(writeScrapeReport("a 1\nb 2\n", ExpositionFormat::Prometheus004, tiny, big) == 1);
  CHECK(big.str().find("body: body of 8 bytes exceeds the limit of 4 bytes") != std::string::npos);
}

TEST_CASE("scrape report as JSON") {
  std::ostringstream out;
  int rejected = writeScrapeReport(kBody, ExpositionFormat::Prometheus004, ExpositionLimits{}, out, true);
  CHECK(rejected == 2);
  auto doc = nlohmann::json::parse(out.str());
  REQUIRE(doc["families"].size() == 2);
  CHECK(doc["families"][0]["name"] == "req");
  CHECK(doc["families"][0]["type"] == "counter");
  CHECK(doc["families"][0]["help"] == "Requests.");
  REQUIRE(doc["families"][0]["series"].size() == 2);
  CHECK(doc["families"][0]["series"][0]["key"] == "req{code=\"200\",method=\"GET\"}");
  CHECK(doc["families"][0]["series"][0]["value"] == 5.0);
  CHECK(doc["families"][0]["series"][0]["timestamp"].get<double>() == doctest::Approx(1700000000.123));
  CHECK(doc["families"][0]["series"][1]["value"] == "+Inf");
  CHECK(doc["errors"][0]["line"] == 5);
  CHECK(doc["errors"][1]["line"] == 7);
  CHECK(doc["summary"]["series"] == 3);
  CHECK(doc["summary"]["errors"] == 2);
}

TEST_CASE("scrape report as JSON: bytes that are not UTF-8 are replaced, not thrown") {
  // Latin-1 HELP text, and an error token cut at 40 bytes in the middle of
  // a two-byte character (39 ASCII bytes, then U+00E9).
  const std::string body = "# HELP m caf\xe9\nm 1\nm 1 2 " + std::string(39, 'x') + "\xc3\xa9\xc3\xa9\n";
  std::ostringstream out;
  int rejected = 0;
  REQUIRE_NOTHROW(rejected = writeScrapeReport(body, ExpositionFormat::Prometheus004, ExpositionLimits{}, out, true));
  CHECK(rejected == 1);
  auto doc = nlohmann::json::parse(out.str());  // valid JSON, so valid UTF-8
  CHECK(doc["families"][0]["help"] == "caf\xef\xbf\xbd");  // U+FFFD
  const std::string message = doc["errors"][0]["message"];
  CHECK(message.find(std::string(39, 'x') + "...'") != std::string::npos);  // cut before the character
}

TEST_CASE("scrape report: a repeated series is a rejected line, in line order with the parse errors") {
  const std::string body =
      "a{x=\"1\",y=\"2\"} 1\n"
      "a{y=\"2\",x=\"1\"} 3\n"  // the same series as line 1
      "b 2\n"
      "bad line\n";
  std::ostringstream out;
  CHECK(writeScrapeReport(body, ExpositionFormat::Prometheus004, ExpositionLimits{}, out) == 2);
  CHECK(out.str() ==
        "# family a unknown\n"
        "unknown  a{x=\"1\",y=\"2\"}  1\n"
        "# family b unknown\n"
        "unknown  b  2\n"
        "line 2: series a{x=\"1\",y=\"2\"} repeats line 1; trimtab keeps the first sample\n"
        "line 4: invalid value: 'line'\n"
        "families=2 series=2 errors=2 dropped=0 bytes=" + std::to_string(body.size()) + "\n");

  std::ostringstream json;
  CHECK(writeScrapeReport(body, ExpositionFormat::Prometheus004, ExpositionLimits{}, json, true) == 2);
  auto doc = nlohmann::json::parse(json.str());
  CHECK(doc["families"][0]["series"].size() == 1);
  CHECK(doc["errors"][0]["line"] == 2);
  CHECK(doc["summary"]["series"] == 2);
  CHECK(doc["summary"]["rejected_lines"] == 2);
}

TEST_CASE("scrape report: repeats past the error cap are counted, not listed") {
  std::string body;
  const std::size_t lines = kMaxRecordedExpositionErrors + 51;
  for (std::size_t i = 0; i < lines; ++i) body += "a 1\n";
  std::ostringstream out;
  CHECK(writeScrapeReport(body, ExpositionFormat::Prometheus004, ExpositionLimits{}, out) ==
        static_cast<int>(lines - 1));
  const std::string text = out.str();
  std::size_t listed = 0;
  for (auto at = text.find("repeats line 1"); at != std::string::npos; at = text.find("repeats line 1", at + 1))
    ++listed;
  CHECK(listed == kMaxRecordedExpositionErrors);
  CHECK(text.find("... and 50 more errors\n") != std::string::npos);
}
