// SPDX-License-Identifier: Apache-2.0
// MetricReader: how reads over several series combine, and how they are named.
#include <doctest/doctest.h>

#include <cmath>

#include "policy/metric_query.h"
#include "policy_test_support.h"

namespace trimtab::test {

namespace {

MetricQuery queryFor(const std::string& metric, Seconds window = 0) {
  MetricQuery q;
  q.metric = metric;
  q.window = window;
  return q;
}

}  // namespace

TEST_CASE("MetricReader: window and quantile pool the points of every matching series") {
  FakeHost host;
  host.store().retain("lat", 100);
  for (int t = 0; t < 4; ++t) {
    host.scrape(t, {{"lat", {{"i", "a"}}, 1.0 + t}, {"lat", {{"i", "b"}}, 10.0 + t}});
  }
  MetricReader reader;
  WindowStats w;
  ReadOutcome r = reader.window(host.store(), queryFor("lat", 10), 3, w);
  CHECK_FALSE(r.missing);
  CHECK(r.series == 2);
  CHECK(w.count == 8);
  CHECK(w.min == 1);
  CHECK(w.max == 13);
  CHECK(w.sum == doctest::Approx(1 + 2 + 3 + 4 + 10 + 11 + 12 + 13));
  CHECK(w.first == 1);   // earliest point (ties: first series)
  CHECK(w.last == 13);   // latest point (ties: last series)
  MetricQuery q = queryFor("lat", 10);
  q.q = 0.5;
  CHECK(reader.quantile(host.store(), q, 3).value == doctest::Approx(7.0));  // between 4 and 10
  q.q = 1;
  CHECK(reader.quantile(host.store(), q, 3).value == 13);
}

TEST_CASE("MetricReader: value and rate combine per-series results; NaN counts as missing") {
  FakeHost host;
  host.scrape(0, {{"g", {{"i", "a"}}, 2}, {"g", {{"i", "b"}}, NAN}});
  MetricReader reader;
  MetricQuery q = queryFor("g");
  ReadOutcome sum = reader.value(host.store(), q);
  CHECK(sum.value == 2);
  CHECK(sum.series == 2);
  q.agg = Aggregation::Avg;
  CHECK(reader.value(host.store(), q).value == 2);  // the NaN series is left out
  host.scrape(1, {{"g", {{"i", "b"}}, NAN}});
  q.matchers.push_back(*makeLabelMatcher("i", LabelMatcher::Op::Equal, "b", nullptr));
  ReadOutcome onlyNan = reader.value(host.store(), q);
  CHECK(onlyNan.missing);
  CHECK(std::isnan(onlyNan.value));
}

TEST_CASE("MetricQuery: selectors read like PromQL, with quoting") {
  MetricQuery q = queryFor("http_requests_total");
  CHECK(q.selector() == "http_requests_total");
  q.matchers.push_back(*makeLabelMatcher("code", LabelMatcher::Op::Regex, "5..", nullptr));
  q.matchers.push_back(*makeLabelMatcher("path", LabelMatcher::Op::NotEqual, "/a\"b\\", nullptr));
  CHECK(q.selector() == "http_requests_total{code=~\"5..\",path!=\"/a\\\"b\\\\\"}");
  CHECK(parseAggregation("max") == Aggregation::Max);
  CHECK_FALSE(parseAggregation("median").has_value());
  CHECK(std::string(aggregationName(Aggregation::Avg)) == "avg");
}

}  // namespace trimtab::test
