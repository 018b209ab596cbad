// SPDX-License-Identifier: Apache-2.0
#include "controller/series_store.h"

#include <doctest/doctest.h>

#include <cmath>
#include <initializer_list>
#include <string>
#include <vector>

namespace trimtab {
namespace {

struct L {
  std::string name, value;
};

void add(SampleBatch& b, const std::string& name, std::initializer_list<L> labels, double v,
         Seconds ts = NAN, MetricType type = MetricType::Gauge) {
  std::vector<LabelView> views;
  for (const L& l : labels) views.push_back(LabelView{l.name, l.value});
  b.add(name, views.data(), views.size(), type, v, ts);
}

SampleBatch one(const std::string& name, double v, Seconds ts = NAN) {
  SampleBatch b;
  add(b, name, {}, v, ts);
  return b;
}

SeriesId only(const SeriesStore& s, const std::string& name) {
  auto ids = s.select(name, {});
  REQUIRE(ids.size() == 1);
  return ids[0];
}

LabelMatcher matcher(std::string name, LabelMatcher::Op op, std::string value) {
  std::string error;
  auto m = makeLabelMatcher(std::move(name), op, std::move(value), &error);
  REQUIRE_MESSAGE(m.has_value(), error);
  return *m;
}

// A retained counter "c" fed with `values` at t = 0, 10, 20, ...
SeriesId feed(SeriesStore& s, const std::string& name, const std::vector<double>& values,
              Seconds window = 1000, Seconds step = 10) {
  int src = s.registerSource("t");
  s.retain(name, window);
  for (std::size_t i = 0; i < values.size(); ++i) {
    s.ingest(src, one(name, values[i]), step * static_cast<double>(i));
  }
  return only(s, name);
}

}  // namespace

TEST_CASE("ingest stores the latest value, key, labels and type") {
  SeriesStore s;
  int src = s.registerSource("app");
  CHECK(s.registerSource("app") == src);
  CHECK(s.registerSource("other") != src);
  SampleBatch b;
  add(b, "http_requests_total", {{"route", "/api"}, {"code", "200"}}, 42, NAN, MetricType::Counter);
  add(b, "up", {}, 1);
  s.ingest(src, b, 100);
  CHECK(s.seriesCount() == 2);

  SeriesId id = only(s, "http_requests_total");
  CHECK(s.key(id) == "http_requests_total{code=\"200\",route=\"/api\"}");
  CHECK(s.name(id) == "http_requests_total");
  CHECK(s.type(id) == MetricType::Counter);
  Labels labels = s.labels(id);
  REQUIRE(labels.size() == 2);
  CHECK(labels[0] == Label{"code", "200"});
  CHECK(labels[1] == Label{"route", "/api"});
  Latest l = s.latest(id);
  CHECK(l.found);
  CHECK_FALSE(l.stale);
  CHECK(l.value == 42);
  CHECK(l.timestamp == 100);

  b.clear();
  add(b, "http_requests_total", {{"code", "200"}, {"route", "/api"}}, 50, NAN, MetricType::Counter);
  s.ingest(src, b, 110);
  CHECK(s.seriesCount() == 2);  // label order does not make a new series
  CHECK(s.latest(id).value == 50);
  CHECK(s.latest(id).timestamp == 110);
}

TEST_CASE("label values with escapes round-trip through the key") {
  SeriesStore s;
  int src = s.registerSource("app");
  SampleBatch b;
  add(b, "m", {{"path", "a\"b\\c\nd"}}, 1);
  s.ingest(src, b, 1);
  SeriesId id = only(s, "m");
  REQUIRE(s.labels(id).size() == 1);
  CHECK(s.labels(id)[0].value == "a\"b\\c\nd");
  CHECK(s.select("m", {matcher("path", LabelMatcher::Op::Equal, "a\"b\\c\nd")}).size() == 1);
}

TEST_CASE("exposition timestamps are kept; samples without one get now") {
  SeriesStore s;
  int src = s.registerSource("app");
  SampleBatch b;
  add(b, "with_ts", {}, 1, 95.5);
  add(b, "without_ts", {}, 2);
  s.ingest(src, b, 100);
  CHECK(s.latest(only(s, "with_ts")).timestamp == 95.5);
  CHECK(s.latest(only(s, "without_ts")).timestamp == 100);
}

TEST_CASE("unknown ids read as not found and stale") {
  SeriesStore s;
  CHECK_FALSE(s.latest(7).found);
  CHECK(s.isStale(7));
  CHECK(s.key(7).empty());
  CHECK(s.labels(7).empty());
  CHECK_FALSE(s.increase(7, 0, 10).has_value());
  CHECK(s.stats(7, 0, 10).count == 0);
  CHECK(s.select("nothing", {}).empty());
}

TEST_CASE("a series missing from N scrapes of its source becomes stale, and recovers") {
  SeriesStore s(StoreOptions{.maxSeries = 100, .staleAfterScrapes = 3});
  int src = s.registerSource("app");
  SampleBatch both;
  add(both, "x", {}, 1);
  add(both, "y", {}, 2);
  SampleBatch onlyX = one("x", 1);
  s.ingest(src, both, 0);
  SeriesId y = only(s, "y"), x = only(s, "x");
  s.ingest(src, onlyX, 1);
  s.ingest(src, onlyX, 2);
  CHECK_FALSE(s.isStale(y));  // missed 2 of 3
  s.ingest(src, onlyX, 3);
  CHECK(s.isStale(y));
  CHECK(s.latest(y).stale);
  CHECK(s.latest(y).value == 2);  // stale values stay readable, marked
  CHECK_FALSE(s.isStale(x));
  s.ingest(src, both, 4);
  CHECK_FALSE(s.isStale(y));
}

TEST_CASE("a sample timestamped far ahead is dropped; one older than the newest too, and the series goes stale") {
  SeriesStore s(StoreOptions{.maxSeries = 100, .staleAfterScrapes = 2});
  int src = s.registerSource("app");
  const Seconds now = 1.7e9;
  s.ingest(src, one("m", 1), now);
  // An exporter's clock a day ahead (or milliseconds taken for seconds).
  SeriesStore::IngestProblems ahead = s.ingest(src, one("m", 2, now + 86400), now + 10);
  CHECK(ahead.future == 1);
  CHECK(ahead.firstFuture == "m");
  SeriesId m = only(s, "m");
  CHECK(s.latest(m).value == 1);
  // Within the skew: taken. Samples without a timestamp then go on.
  CHECK(s.ingest(src, one("m", 3, now + 20 + kMaxFutureSkew), now + 20).future == 0);
  CHECK(s.latest(m).value == 3);
  // Older than the newest: dropped and not fresh, so the series goes stale
  // instead of holding 3 while looking current.
  SeriesStore::IngestProblems older = s.ingest(src, one("m", 4), now + 30);
  CHECK(older.outOfOrder == 1);
  CHECK_FALSE(s.isStale(m));
  s.ingest(src, one("m", 5), now + 40);
  CHECK(s.isStale(m));
  CHECK(s.latest(m).value == 3);
  s.ingest(src, one("m", 6), now + 30 + kMaxFutureSkew);
  CHECK_FALSE(s.isStale(m));
  CHECK(s.latest(m).value == 6);
}

TEST_CASE("failed scrapes make a source's series stale; other sources are unaffected") {
  SeriesStore s(StoreOptions{.maxSeries = 100, .staleAfterScrapes = 2});
  int a = s.registerSource("a");
  int b = s.registerSource("b");
  s.ingest(a, one("from_a", 1), 0);
  s.ingest(b, one("from_b", 1), 0);
  SeriesId sa = only(s, "from_a"), sb = only(s, "from_b");
  s.markFailedScrape(a, 1);
  CHECK_FALSE(s.isStale(sa));
  s.markFailedScrape(a, 2);
  CHECK(s.isStale(sa));
  CHECK_FALSE(s.isStale(sb));
  s.ingest(a, one("from_a", 5), 3);
  CHECK_FALSE(s.isStale(sa));
  CHECK(s.latest(sa).value == 5);
}

TEST_CASE("increase and rate treat a drop as a counter reset") {
  SeriesStore s;
  // 10 -> 20 (+10), reset to 5 (+5), -> 15 (+10)
  SeriesId id = feed(s, "c", {10, 20, 5, 15});
  auto inc = s.increase(id, 0, 30);
  REQUIRE(inc.has_value());
  CHECK(*inc == 25);
  auto r = s.rate(id, 0, 30);
  REQUIRE(r.has_value());
  CHECK(*r == doctest::Approx(25.0 / 30.0));
  // Only the points inside [from, to] count.
  CHECK(*s.increase(id, 10, 30) == 15);
  CHECK(*s.rate(id, 10, 30) == doctest::Approx(15.0 / 20.0));
  CHECK(*s.increase(id, 20, 30) == 10);
}

TEST_CASE("increase and rate need two points") {
  SeriesStore s;
  SeriesId id = feed(s, "c", {10, 20});
  CHECK_FALSE(s.increase(id, 0, 5).has_value());
  CHECK_FALSE(s.rate(id, 0, 5).has_value());
  CHECK_FALSE(s.rate(id, 50, 60).has_value());
  CHECK(*s.increase(id, 0, 10) == 10);
}

TEST_CASE("the cardinality cap drops new series and counts them") {
  SeriesStore s(StoreOptions{.maxSeries = 3});
  int src = s.registerSource("app");
  SampleBatch b;
  for (int i = 0; i < 5; ++i) add(b, "m", {{"i", std::to_string(i)}}, i);
  s.ingest(src, b, 1);
  CHECK(s.seriesCount() == 3);
  CHECK(s.droppedSeries() == 2);
  CHECK(s.select("m", {}).size() == 3);
  // Known series keep updating; refused ones are refused (and counted) again.
  b.clear();
  add(b, "m", {{"i", "0"}}, 100);
  add(b, "m", {{"i", "4"}}, 100);
  s.ingest(src, b, 2);
  CHECK(s.seriesCount() == 3);
  CHECK(s.droppedSeries() == 3);
  auto ids = s.select("m", {matcher("i", LabelMatcher::Op::Equal, "0")});
  REQUIRE(ids.size() == 1);
  CHECK(s.latest(ids[0]).value == 100);
  CHECK(s.select("m", {matcher("i", LabelMatcher::Op::Equal, "4")}).empty());
}

TEST_CASE("retained history is trimmed to the window; other series keep the last point") {
  SeriesStore s;
  int src = s.registerSource("app");
  s.retain("kept", 10);
  for (int t = 0; t <= 100; ++t) {
    SampleBatch b;
    add(b, "kept", {}, t);
    add(b, "latest_only", {}, t);
    s.ingest(src, b, t);
  }
  std::vector<Point> pts;
  s.points(only(s, "kept"), -1e9, 1e9, pts);
  REQUIRE(!pts.empty());
  CHECK(pts.back().t == 100);
  CHECK(pts.front().t <= 90);        // the whole window is there
  CHECK(pts.front().t >= 100 - 15);  // old points are gone (window plus a small margin)
  for (std::size_t i = 1; i < pts.size(); ++i) CHECK(pts[i].t > pts[i - 1].t);
  CHECK(s.retainedPoints() == pts.size());

  pts.clear();
  s.points(only(s, "latest_only"), -1e9, 1e9, pts);
  REQUIRE(pts.size() == 1);
  CHECK(pts[0].v == 100);

  SUBCASE("the longest window wins") {
    s.retain("kept", 5);
    for (int t = 101; t <= 120; ++t) s.ingest(src, one("kept", t), t);
    pts.clear();
    s.points(only(s, "kept"), -1e9, 1e9, pts);
    CHECK(pts.front().t <= 110);
  }
}

TEST_CASE("history is capped at maxPointsPerSeries, keeping the newest") {
  SeriesStore s(StoreOptions{.maxSeries = 10, .staleAfterScrapes = 3, .maxPointsPerSeries = 8});
  SeriesId id = feed(s, "m", std::vector<double>(100, 1.0), 1e6, 1);
  std::vector<Point> pts;
  s.points(id, -1e9, 1e9, pts);
  REQUIRE(pts.size() == 8);
  CHECK(pts.front().t == 92);
  CHECK(pts.back().t == 99);
  CHECK(s.retainedPoints() == 8);
}

TEST_CASE("retain applies to existing and future series of the name") {
  SeriesStore s;
  int src = s.registerSource("app");
  SampleBatch b;
  add(b, "m", {{"k", "old"}}, 1);
  s.ingest(src, b, 0);
  s.retain("m", 60);
  b.clear();
  add(b, "m", {{"k", "old"}}, 2);
  add(b, "m", {{"k", "new"}}, 3);
  s.ingest(src, b, 10);
  b.clear();
  add(b, "m", {{"k", "old"}}, 4);
  add(b, "m", {{"k", "new"}}, 5);
  s.ingest(src, b, 20);

  auto oldId = s.select("m", {matcher("k", LabelMatcher::Op::Equal, "old")});
  auto newId = s.select("m", {matcher("k", LabelMatcher::Op::Equal, "new")});
  REQUIRE(oldId.size() == 1);
  REQUIRE(newId.size() == 1);
  std::vector<Point> pts;
  s.points(oldId[0], 0, 20, pts);
  CHECK(pts.size() == 3);  // the point from before retain() is kept
  pts.clear();
  s.points(newId[0], 0, 20, pts);
  CHECK(pts.size() == 2);
  CHECK(s.retainedPoints() == 5);
}

TEST_CASE("out-of-order samples are ignored; a repeated timestamp updates in place") {
  SeriesStore s;
  int src = s.registerSource("app");
  s.retain("m", 100);
  s.ingest(src, one("m", 1, 10), 10);
  s.ingest(src, one("m", 2, 5), 11);   // older than what we have
  s.ingest(src, one("m", 3, 10), 12);  // same timestamp as the newest point
  SeriesId id = only(s, "m");
  std::vector<Point> pts;
  s.points(id, 0, 100, pts);
  REQUIRE(pts.size() == 1);
  CHECK(pts[0].v == 3);
  CHECK(s.latest(id).value == 3);
  CHECK_FALSE(s.isStale(id));
}

TEST_CASE("a series twice in one batch keeps its first sample; the repeats are counted and named") {
  SeriesStore s;
  int src = s.registerSource("app");
  int other = s.registerSource("other");
  SampleBatch b;
  add(b, "m", {{"a", "1"}, {"b", "2"}}, 1);
  add(b, "m", {{"b", "2"}, {"a", "1"}}, 2);  // the same series, labels in another order
  add(b, "n", {}, 5);
  add(b, "n", {}, 6);
  add(b, "n", {}, 7);
  SeriesStore::IngestProblems p = s.ingest(src, b, 10);
  CHECK(p.duplicates == 3);
  CHECK(p.firstDuplicate == "m{a=\"1\",b=\"2\"}");
  CHECK(s.latest(s.select("m", {}).at(0)).value == 1);
  CHECK(s.latest(only(s, "n")).value == 5);
  // The next scrape of the same series is no repeat, nor is another source's.
  CHECK(s.ingest(src, one("n", 8), 20).duplicates == 0);
  CHECK(s.latest(only(s, "n")).value == 8);
  CHECK(s.ingest(other, one("n", 9), 20).duplicates == 0);
  CHECK(s.latest(only(s, "n")).value == 9);
}

TEST_CASE("select with every matcher op") {
  SeriesStore s;
  int src = s.registerSource("app");
  SampleBatch b;
  add(b, "req", {{"env", "prod"}, {"route", "/api"}}, 1);
  add(b, "req", {{"env", "dev"}, {"route", "/"}}, 2);
  add(b, "req", {{"route", "/api/v2"}}, 3);
  add(b, "other", {{"env", "prod"}}, 4);
  s.ingest(src, b, 1);
  using Op = LabelMatcher::Op;
  auto values = [&](std::vector<LabelMatcher> ms) {
    std::vector<double> out;
    for (SeriesId id : s.select("req", ms)) out.push_back(s.latest(id).value);
    return out;
  };
  CHECK(values({}) == std::vector<double>{1, 2, 3});
  CHECK(values({matcher("env", Op::Equal, "prod")}) == std::vector<double>{1});
  CHECK(values({matcher("env", Op::NotEqual, "prod")}) == std::vector<double>{2, 3});
  CHECK(values({matcher("env", Op::Equal, "")}) == std::vector<double>{3});  // absent = ""
  CHECK(values({matcher("env", Op::NotEqual, "")}) == std::vector<double>{1, 2});
  CHECK(values({matcher("route", Op::Regex, "/api.*")}) == std::vector<double>{1, 3});
  CHECK(values({matcher("route", Op::Regex, "api")}).empty());  // anchored at both ends
  CHECK(values({matcher("route", Op::Regex, "/api")}) == std::vector<double>{1});
  CHECK(values({matcher("route", Op::NotRegex, "/api.*")}) == std::vector<double>{2});
  CHECK(values({matcher("env", Op::Regex, "prod|dev")}) == std::vector<double>{1, 2});
  CHECK(values({matcher("env", Op::NotRegex, ".+")}) == std::vector<double>{3});
  CHECK(values({matcher("env", Op::Equal, "prod"), matcher("route", Op::Regex, "/api.*")}) ==
        std::vector<double>{1});
  CHECK(values({matcher("env", Op::Equal, "prod"), matcher("route", Op::Equal, "/")}).empty());
  CHECK(values({matcher("__name__", Op::Equal, "req")}).size() == 3);
  CHECK(s.select("absent", {}).empty());

  // A hand-built regex matcher (no compiled regex) still works.
  LabelMatcher raw{"route", Op::Regex, "/", nullptr};
  CHECK(values({raw}) == std::vector<double>{2});
}

TEST_CASE("a label regex on a long value neither recurses nor backtracks") {
  // std::regex recursed once per character (a stack overflow at 20,000
  // bytes under `(a|b)*`) and backtracked exponentially on `(a|aa)*b`.
  using Op = LabelMatcher::Op;
  SeriesStore s;
  int src = s.registerSource("app");
  SampleBatch b;
  add(b, "lab", {{"a", std::string(200000, 'a')}}, 1);
  add(b, "lab", {{"a", "ab"}}, 2);
  s.ingest(src, b, 1);
  auto count = [&](const char* re) {
    return s.select("lab", {*makeLabelMatcher("a", Op::Regex, re, nullptr)}).size();
  };
  CHECK(count("(a|b)*") == 2);
  CHECK(count(".*") == 2);
  CHECK(count("(a|aa)*b") == 1);
  CHECK(count("(a|aa)*") == 1);
}

TEST_CASE("makeLabelMatcher rejects a bad regex with a message") {
  std::string error;
  auto m = makeLabelMatcher("route", LabelMatcher::Op::Regex, "([a-z", &error);
  CHECK_FALSE(m.has_value());
  CHECK(error.find("route") != std::string::npos);
  CHECK(error.find("([a-z") != std::string::npos);
  CHECK(makeLabelMatcher("route", LabelMatcher::Op::Equal, "([a-z", &error).has_value());
}

TEST_CASE("stats over a window") {
  SeriesStore s;
  SeriesId id = feed(s, "g", {1, 2, 3, 4, 100});
  WindowStats w = s.stats(id, 0, 30);
  CHECK(w.count == 4);
  CHECK(w.avg == 2.5);
  CHECK(w.min == 1);
  CHECK(w.max == 4);
  CHECK(w.sum == 10);
  CHECK(w.first == 1);
  CHECK(w.last == 4);
  CHECK(w.stddev == doctest::Approx(std::sqrt(1.25)));
  WindowStats inner = s.stats(id, 10, 20);
  CHECK(inner.count == 2);
  CHECK(inner.avg == 2.5);
  WindowStats empty = s.stats(id, 1000, 2000);
  CHECK(empty.count == 0);
  CHECK(std::isnan(empty.avg));
}

TEST_CASE("quantile interpolates linearly between order statistics") {
  SeriesStore s;
  SeriesId id = feed(s, "g", {5, 1, 4, 2, 3});
  CHECK(s.quantile(id, 0, 40, 0) == 1);
  CHECK(s.quantile(id, 0, 40, 1) == 5);
  CHECK(s.quantile(id, 0, 40, 0.5) == 3);
  CHECK(s.quantile(id, 0, 40, 0.25) == 2);
  CHECK(s.quantile(id, 0, 40, 0.1) == doctest::Approx(1.4));
  CHECK(s.quantile(id, 0, 40, 0.9) == doctest::Approx(4.6));
  CHECK(std::isnan(s.quantile(id, 0, 40, 1.5)));
  CHECK(std::isnan(s.quantile(id, 0, 40, -0.1)));
  CHECK(std::isnan(s.quantile(id, 0, 40, NAN)));
  CHECK(std::isnan(s.quantile(id, 100, 200, 0.5)));
}

TEST_CASE("NaN samples are stored but left out of stats, quantiles and increase") {
  SeriesStore s;
  SeriesId id = feed(s, "g", {1, NAN, 3});
  CHECK(s.latest(id).value == 3);
  std::vector<Point> pts;
  s.points(id, 0, 20, pts);
  REQUIRE(pts.size() == 3);
  CHECK(std::isnan(pts[1].v));
  WindowStats w = s.stats(id, 0, 20);
  CHECK(w.count == 2);
  CHECK(w.avg == 2);
  CHECK(w.min == 1);
  CHECK(w.max == 3);
  CHECK(s.quantile(id, 0, 20, 0.5) == 2);
  CHECK(*s.increase(id, 0, 20) == 2);
  CHECK(*s.rate(id, 0, 20) == doctest::Approx(0.1));

  int src = s.registerSource("t");
  s.ingest(src, one("g", NAN), 30);
  CHECK(s.latest(id).found);
  CHECK(std::isnan(s.latest(id).value));
  CHECK(s.stats(id, 25, 35).count == 0);
}

TEST_CASE("readFilter lists the retained names") {
  SeriesStore s;
  int src = s.registerSource("app");
  s.ingest(src, one("not_read", 1), 0);
  s.retain("latest", 0);
  s.retain("window", 60);
  FamilyFilter f = s.readFilter();
  CHECK_FALSE(f.wantsAll());
  CHECK(f.size() == 2);
  CHECK(f.wants("latest"));
  CHECK(f.wants("window"));
  CHECK_FALSE(f.wants("not_read"));
  // retain(name, 0) keeps the latest only.
  s.ingest(src, one("latest", 1), 1);
  s.ingest(src, one("latest", 2), 2);
  CHECK(s.retainedPoints() == 0);
}

TEST_CASE("windows over a ring that has wrapped read every point once, in time order") {
  // 8 points kept of 13 fed: the ring's head is mid-buffer, so a window can
  // span the end of the buffer and its start.
  SeriesStore s(StoreOptions{.maxSeries = 10, .staleAfterScrapes = 3, .maxPointsPerSeries = 8});
  std::vector<double> values;
  for (int i = 0; i < 13; ++i) values.push_back(i);
  SeriesId id = feed(s, "c", values, 1e6, 1);  // t = 0..12, kept 5..12
  for (Seconds from = 4; from <= 13; ++from) {
    for (Seconds to = from; to <= 13; ++to) {
      std::vector<Point> pts;
      s.points(id, from, to, pts);
      std::vector<double> expected;
      for (int t = std::max(5, static_cast<int>(from)); t <= std::min(12, static_cast<int>(to)); ++t) {
        expected.push_back(t);
      }
      std::vector<double> got;
      for (const Point& p : pts) got.push_back(p.v);
      CHECK_MESSAGE(got == expected, "window [" << from << ", " << to << "]");
      WindowStats w = s.stats(id, from, to);
      CHECK(w.count == expected.size());
      if (!expected.empty()) {
        CHECK(w.first == expected.front());
        CHECK(w.last == expected.back());
      }
      std::optional<double> r = s.rate(id, from, to);
      CHECK(r.has_value() == (expected.size() >= 2));
      if (r) CHECK(*r == doctest::Approx(1.0));  // one per second
    }
  }
}

}  // namespace trimtab
