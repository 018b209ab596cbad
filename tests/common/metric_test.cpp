// SPDX-License-Identifier: Apache-2.0
// Canonical series keys: sorted, escaped, and parsed back.
#include <doctest/doctest.h>

#include <cmath>
#include <string>

#include "common/metric.h"
#include "sources/exposition_parser.h"

using namespace trimtab;

TEST_CASE("metricTypeName") {
  CHECK(metricTypeName(MetricType::Unknown) == "unknown");
  CHECK(metricTypeName(MetricType::Counter) == "counter");
  CHECK(metricTypeName(MetricType::Gauge) == "gauge");
  CHECK(metricTypeName(MetricType::Histogram) == "histogram");
  CHECK(metricTypeName(MetricType::GaugeHistogram) == "gaugehistogram");
  CHECK(metricTypeName(MetricType::Summary) == "summary");
  CHECK(metricTypeName(MetricType::Info) == "info");
  CHECK(metricTypeName(MetricType::StateSet) == "stateset");
}

TEST_CASE("appendSeriesKey sorts labels by name and escapes values") {
  LabelView labels[] = {{"zone", "b"}, {"app", "x\"y"}, {"path", "C:\\d"}, {"msg", "a\nb"}};
  std::string key = "prefix:";
  appendSeriesKey(key, "up", labels, 4);
  CHECK(key == "prefix:up{app=\"x\\\"y\",msg=\"a\\nb\",path=\"C:\\\\d\",zone=\"b\"}");
  CHECK(labels[0].name == "app");  // sorted in place

  std::string bare;
  appendSeriesKey(bare, "up", nullptr, 0);
  CHECK(bare == "up");
  CHECK(seriesKey("up", {}) == "up");
  CHECK(seriesKey("up", {{"b", "2"}, {"a", "1"}}) == "up{a=\"1\",b=\"2\"}");
}

TEST_CASE("parseSeriesKey round-trips escapes and rejects malformed keys") {
  const Labels original = {{"a", "quote\" back\\slash nl\n end"}, {"b", ""}, {"c", "{},="}};
  const std::string key = seriesKey("metric_name:x", original);
  std::string name;
  Labels labels;
  REQUIRE(parseSeriesKey(key, name, labels));
  CHECK(name == "metric_name:x");
  CHECK(labels == original);
  CHECK(seriesKey(name, labels) == key);

  REQUIRE(parseSeriesKey("plain", name, labels));
  CHECK(name == "plain");
  CHECK(labels.empty());

  for (const char* bad : {"", "1abc", "a{", "a{b}", "a{b=\"1\"", "a{b=\"1\",}", "a{b=\"\\q\"}", "a{b=\"1\"}x",
                          "a b", "a{b=1}", "a{1b=\"1\"}", "a{b=\"1\\"}) {
    CAPTURE(bad);
    CHECK_FALSE(parseSeriesKey(bad, name, labels));
  }
}

TEST_CASE("parseInto builds canonical keys that parseSeriesKey reads back") {
  ExpositionParser parser;
  SampleBatch batch;
  auto stats = parser.parseInto(
      "# TYPE req counter\n"
      "req{method=\"GET\",code=\"200\",path=\"/a\\\"b\"} 5 1000\n"
      "req{code=\"500\",method=\"POST\"} 1\n"
      "temp NaN\n",
      ExpositionFormat::Prometheus004, FamilyFilter::everything(), batch);
  REQUIRE(stats.errors.empty());
  REQUIRE(batch.size() == 3);
  CHECK(batch.key(0) == "req{code=\"200\",method=\"GET\",path=\"/a\\\"b\"}");
  CHECK(batch.name(0) == "req");
  CHECK(batch.entry(0).type == MetricType::Counter);
  CHECK(batch.entry(0).value == 5);
  CHECK(batch.entry(0).timestamp == 1.0);
  CHECK(batch.key(1) == "req{code=\"500\",method=\"POST\"}");
  CHECK(std::isnan(batch.entry(1).timestamp));
  CHECK(batch.key(2) == "temp");
  CHECK(batch.entry(2).type == MetricType::Unknown);
  CHECK(std::isnan(batch.entry(2).value));

  std::string name;
  Labels labels;
  REQUIRE(parseSeriesKey(batch.key(0), name, labels));
  CHECK(name == "req");
  REQUIRE(labels.size() == 3);
  CHECK(labels[2] == Label{"path", "/a\"b"});

  // Appends: a second parse adds to the batch until it is cleared.
  (void)parser.parseInto("x 1\n", ExpositionFormat::Prometheus004, FamilyFilter::everything(), batch);
  CHECK(batch.size() == 4);
  batch.clear();
  (void)parser.parseInto("x 1\n", ExpositionFormat::Prometheus004, FamilyFilter::everything(), batch);
  CHECK(batch.size() == 1);
}
