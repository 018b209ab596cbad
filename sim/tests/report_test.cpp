// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <algorithm>

#include <nlohmann/json.hpp>

#include "driver_test_support.h"
#include "sim/driver/number_format.h"
#include "sim/driver/report_csv.h"
#include "sim/driver/report_html.h"
#include "sim/driver/report_json.h"
#include "sim/driver/report_text.h"
#include "sim/driver/svg_chart.h"

using namespace trimtab;
using namespace trimtab::sim;
using namespace trimtab::sim::testing;

TEST_CASE("reports: JSON parses, CSV has a row per bucket, HTML is self-contained with SVG") {
  ScratchDir dir("report");
  dir.write("grow.lua", kGrowPolicy);
  Scenario s = loadOrFail(kOverloadedPool, dir.write("s.yaml", kOverloadedPool));
  s.sample = 60;
  BatchOptions options;
  options.seeds = {1};
  auto report = runBatch(s, s.configs, options);
  REQUIRE(report.ok());

  auto json = nlohmann::json::parse(summaryJson(*report));
  REQUIRE(json["configs"].size() == 2);
  CHECK(json["configs"][0]["name"] == "static");
  CHECK(json["configs"][1]["mean"]["knobs"]["db_pool_size"]["changes"].get<double>() > 0);
  CHECK(json["configs"][0]["runs"][0]["controller"]["scrapes_ok"].get<double>() > 0);
  CHECK(json["scenario"]["sample_seconds"] == 60);

  const std::string csv = timelineCsv(*report);
  CHECK(csv.rfind("config,seed,t_s,rps,", 0) == 0);
  CHECK(csv.find(",oom_eta_predicted_s,oom_eta_actual_s,") != std::string::npos);
  CHECK(csv.find(",db_pool_size\n") != std::string::npos);
  CHECK(std::count(csv.begin(), csv.end(), '\n') == 1 + 2 * 10);  // 600 s in 60 s buckets, two configs

  const std::string html = htmlReport(*report);
  CHECK(html.rfind("<!DOCTYPE html>", 0) == 0);
  CHECK(html.find("<svg") != std::string::npos);
  CHECK(html.find("<path fill=\"none\"") != std::string::npos);
  CHECK(html.find("knob db_pool_size") != std::string::npos);
  CHECK(html.find("http://") == html.find("http://www.w3.org/2000/svg"));  // only the SVG namespace
  CHECK(html.find("<script") == std::string::npos);

  const std::string table = summaryTable(*report);
  CHECK(table.find("static") != std::string::npos);
  CHECK(table.find("timeouts") != std::string::npos);
  CHECK(table.find(" *") != std::string::npos);  // a best value is marked
}

TEST_CASE("the table stars every config at the best value and shows negligible means as ~0") {
  SimReport report;
  report.scenario.name = "ties";
  report.seeds = {1};
  for (const char* name : {"a", "b", "c"}) {
    ScenarioConfig c;
    c.name = name;
    report.configs.push_back(c);
  }
  report.means.resize(3);
  report.means[0].sloViolationSeconds = 0;
  report.means[1].sloViolationSeconds = 7;
  report.means[2].sloViolationSeconds = 0;
  report.means[1].timeouts = 5e-258;
  report.means[2].timeouts = 3;  // a: 0 and b: ~0 are both best
  const std::string table = summaryTable(report);
  INFO(table);
  auto row = [&](const std::string& label) {
    const auto at = table.find(label);
    REQUIRE(at != std::string::npos);
    return table.substr(at, table.find('\n', at) - at);
  };
  const std::string slo = row("SLO violation");
  CHECK(std::count(slo.begin(), slo.end(), '*') == 2);
  const std::string timeouts = row("timeouts");
  CHECK(timeouts.find("~0") != std::string::npos);
  CHECK(timeouts.find("e-258") == std::string::npos);
  CHECK(std::count(timeouts.begin(), timeouts.end(), '*') == 2);  // ~0 ranks as 0
}

TEST_CASE("fixed number formatting") {
  CHECK(formatNumber(0.1 + 0.2) == "0.3");
  CHECK(formatNumber(-0.0) == "0");
  CHECK(formatNumber(1234567) == "1.23457e+06");
  CHECK(jsonNumber(NAN) == "null");
  CHECK(fixedNumber(-0.00001, 1) == "0.0");
  CHECK(jsonString("a\"b\n") == "\"a\\\"b\\n\"");
  CHECK(csvField("a,b") == "\"a,b\"");
  CHECK(htmlEscape("<a&b>") == "&lt;a&amp;b&gt;");
  CHECK(virtualTime(90061) == "1d 01:01:01");
  CHECK(shortNumber(2.5e9) == "2.5G");
}

TEST_CASE("an SVG chart scales its data into the plot and draws reference lines") {
  LineChart c{"p95", "s", 100, {{"a", "#000", {0, 50, 100}, {0, 1, 2}}}, {{1.5, "SLO"}}};
  const std::string svg = svgLineChart(c);
  CHECK(svg.find("<path") != std::string::npos);
  CHECK(svg.find("M70.0,190.0") != std::string::npos);  // (0, 0) is the plot's bottom left
  CHECK(svg.find("SLO") != std::string::npos);
  CHECK(svg == svgLineChart(c));
  EventChart e{"events", 100, {{"oom_kill", "#f00", {10, 20}}}};
  CHECK(svgEventChart(e).find("oom_kill (2)") != std::string::npos);
}
