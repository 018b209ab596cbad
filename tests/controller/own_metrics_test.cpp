// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "controller/own_metrics.h"

namespace trimtab {
namespace {

constexpr const char* kPromtool = "/usr/bin/promtool";

bool contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

OwnMetrics& populated(OwnMetrics& m) {
  m.observeTick(0.00012);
  m.observePolicy("pool", 0.00003);
  m.countPolicyError("pool");
  m.setQuarantinedPolicies(1);
  m.countPolicyReloadFailure();
  m.countDecision("db_pool_size", "apply");
  m.countDecision("db_pool_size", "vetoed");
  m.observeActuation("db_pool_size", true, true, 0.04);
  m.observeActuation("db_pool_size", false, false, 2.5);
  m.observeActuation("db_pool_size", true, false, 0.3);
  m.setKnobValue("db_pool_size", 25);
  m.observeScrape("app", 0.012);
  m.countScrapeError("app");
  m.setScrapeSamples("app", 1234);
  m.countScrapeRejectedLines("app", 3);
  m.setSourceUp("app", true);
  m.setSourceUp("redis", false);
  m.setSeries(1500);
  m.syncSeriesDropped(7);
  m.syncHttpConnectionsClosed(1, 0);
  return m;
}

TEST_CASE("own metrics carry every documented family with its labels") {
  OwnMetrics m("0.1.0");
  std::string text = populated(m).serialize();
  for (const char* family :
       {"trimtab_tick_duration_seconds", "trimtab_policy_duration_seconds", "trimtab_policy_errors_total",
        "trimtab_policy_quarantined", "trimtab_policy_reload_failures_total", "trimtab_decisions_total",
        "trimtab_actuations_total", "trimtab_actuator_errors_total", "trimtab_actuator_latency_seconds",
        "trimtab_scrape_duration_seconds", "trimtab_scrape_errors_total", "trimtab_scrape_samples",
        "trimtab_scrape_rejected_lines_total", "trimtab_series", "trimtab_series_dropped_total",
        "trimtab_knob_value", "trimtab_source_up", "trimtab_build_info", "trimtab_http_connections_closed_total"})
    CHECK_MESSAGE(contains(text, std::string("# TYPE ") + family + " "), family);
  CHECK(contains(text, "trimtab_build_info{version=\"0.1.0\"} 1"));
  CHECK(contains(text, "trimtab_policy_duration_seconds_count{policy=\"pool\"} 1"));
  CHECK(contains(text, "trimtab_decisions_total{knob=\"db_pool_size\",verdict=\"vetoed\"} 1"));
  CHECK(contains(text, "trimtab_actuations_total{knob=\"db_pool_size\",outcome=\"ok\"} 1"));
  CHECK(contains(text, "trimtab_actuations_total{knob=\"db_pool_size\",outcome=\"failed\"} 1"));
  CHECK(contains(text, "trimtab_actuations_total{knob=\"db_pool_size\",outcome=\"not_effective\"} 1"));
  CHECK(contains(text, "trimtab_actuator_errors_total{knob=\"db_pool_size\"} 1"));
  CHECK(contains(text, "trimtab_actuator_latency_seconds_count{knob=\"db_pool_size\"} 3"));
  CHECK(contains(text, "trimtab_scrape_rejected_lines_total{source=\"app\"} 3"));
  CHECK(contains(text, "trimtab_source_up{source=\"redis\"} 0"));
  CHECK(contains(text, "trimtab_knob_value{knob=\"db_pool_size\"} 25"));
  CHECK(contains(text, "trimtab_series 1500"));
  CHECK(contains(text, "trimtab_series_dropped_total 7"));
}

TEST_CASE("closed HTTP connections follow the server's cumulative counts") {
  OwnMetrics m("x");
  m.syncHttpConnectionsClosed(0, 0);
  CHECK(contains(m.serialize(), "trimtab_http_connections_closed_total{reason=\"evicted\"} 0"));
  m.syncHttpConnectionsClosed(4, 1);
  m.syncHttpConnectionsClosed(2, 1);  // never backwards
  m.syncHttpConnectionsClosed(6, 1);
  const std::string text = m.serialize();
  CHECK(contains(text, "trimtab_http_connections_closed_total{reason=\"evicted\"} 6"));
  CHECK(contains(text, "trimtab_http_connections_closed_total{reason=\"refused\"} 1"));
}

TEST_CASE("series dropped follows the store's cumulative count") {
  OwnMetrics m("x");
  m.syncSeriesDropped(5);
  m.syncSeriesDropped(3);  // never backwards
  m.syncSeriesDropped(9);
  CHECK(contains(m.serialize(), "trimtab_series_dropped_total 9"));
}

TEST_CASE("own metrics are safe to update from several threads") {
  OwnMetrics m("x");
  std::vector<std::thread> threads;
  constexpr int kThreads = 4, kEach = 1000;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back([&m, t] {
      for (int i = 0; i < kEach; ++i) {
        m.countDecision("knob" + std::to_string(i % 3), "apply");
        m.observeScrape("s" + std::to_string(t), 0.001);
        if (i % 100 == 0) (void)m.serialize();
      }
    });
  for (auto& t : threads) t.join();
  std::string text = m.serialize();
  CHECK(contains(text, "trimtab_decisions_total{knob=\"knob0\",verdict=\"apply\"} 1336"));
  CHECK(contains(text, "trimtab_scrape_duration_seconds_count{source=\"s3\"} 1000"));
}

TEST_CASE("promtool accepts the /metrics output") {
  if (::access(kPromtool, X_OK) != 0) {
    MESSAGE("promtool not installed at ", kPromtool, ": skipped");
    return;
  }
  OwnMetrics m("0.1.0");
  auto path = std::filesystem::temp_directory_path() / ("trimtab_metrics_" + std::to_string(::getpid()) + ".prom");
  auto check = [&](const std::string& text) {
    { std::ofstream(path) << text; }
    std::string command = std::string(kPromtool) + " check metrics < " + path.string() + " 2>&1";
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    REQUIRE(pipe != nullptr);
    char buffer[512];
    while (std::fgets(buffer, sizeof buffer, pipe)) output += buffer;
    int status = ::pclose(pipe);
    CHECK_MESSAGE(status == 0, output);
  };
  check(m.serialize());              // fresh: families without children yet
  check(populated(m).serialize());   // after a busy minute
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace trimtab
