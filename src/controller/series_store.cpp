// SPDX-License-Identifier: Apache-2.0
#include "controller/series_store.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <re2/re2.h>

#include "controller/point_ring.h"

namespace trimtab {

namespace {

// History is trimmed to the longest window plus this margin, so a read whose
// `to` is slightly after the newest point still sees a full window.
constexpr double kHistoryMarginFraction = 0.1;
constexpr Seconds kHistoryMinMargin = 1.0;
constexpr Seconds kNotRetained = -1;

Seconds historySpan(Seconds window) {
  return window + std::max(kHistoryMinMargin, window * kHistoryMarginFraction);
}

const std::string kEmpty;

// A label regex: anchored by FullMatch, quiet (errors are returned, not
// logged to stderr), and capped in memory so a huge pattern fails to compile
// rather than grow without bound.
std::unique_ptr<re2::RE2> compileLabelRegex(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  options.set_max_mem(1 << 20);
  return std::make_unique<re2::RE2>(pattern, options);
}

}  // namespace

std::optional<LabelMatcher> makeLabelMatcher(std::string name, LabelMatcher::Op op,
                                             std::string value, std::string* error) {
  LabelMatcher m;
  m.name = std::move(name);
  m.op = op;
  m.value = std::move(value);
  if (op == LabelMatcher::Op::Regex || op == LabelMatcher::Op::NotRegex) {
    std::unique_ptr<re2::RE2> re = compileLabelRegex(m.value);
    if (!re->ok()) {
      if (error) *error = "bad regex for label " + m.name + ": \"" + m.value + "\": " + re->error();
      return std::nullopt;
    }
    m.compiled = std::move(re);
  }
  return m;
}

struct SeriesStore::Impl {
  struct NameEntry {
    std::vector<SeriesId> ids;
    Seconds window = kNotRetained;  // >= 0 once retain() named it
  };
  using NameNode = std::pair<const std::string, NameEntry>;
  // 48 bytes: ten thousand scraped series must stay cheap (DESIGN.md).
  struct Series {
    const std::string* key;              // owned by `byKey` (node keys are stable)
    const NameNode* family;              // node of `byName` (stable): name and window
    std::unique_ptr<PointRing> history;  // only for names retained with a window
    Point last{0, NAN};
    std::uint32_t lastScrape = 0;        // source's scrape count when last seen (wraps safely)
    std::uint16_t source = 0;
    MetricType type = MetricType::Unknown;
    bool seen = false;
  };
  static_assert(sizeof(Series) <= 48, "keep per-series overhead small");
  struct Source {
    std::string name;
    std::uint32_t scrapes = 0;
  };

  std::vector<Series> series;
  std::unordered_map<std::string, SeriesId, StringHash, std::equal_to<>> byKey;
  std::unordered_map<std::string, NameEntry, StringHash, std::equal_to<>> byName;
  std::vector<Source> sources;
  mutable std::unordered_map<SeriesId, Labels> labelCache;  // series read with matchers
  std::uint64_t dropped = 0;
  std::size_t retainedPoints = 0;
  std::uint64_t readFilterGeneration = 0;  // bumped when a family joins the read filter
  std::size_t retainedFamilies = 0;

  NameNode& nameEntry(std::string_view name) {
    if (auto it = byName.find(name); it != byName.end()) return *it;
    return *byName.emplace(std::string(name), NameEntry{}).first;
  }

  bool isStale(const Series& s, int staleAfter) const {
    if (!s.seen) return true;
    std::uint32_t missed = sources[s.source].scrapes - s.lastScrape;
    return missed >= static_cast<std::uint32_t>(staleAfter);
  }

  void record(Series& s, Point p, std::size_t maxPoints) {
    // ingest() dropped older points already.
    bool sameTime = s.seen && p.t == s.last.t;
    s.last = p;
    if (!s.history) return;
    if (sameTime && !s.history->empty()) {
      s.history->back().v = p.v;  // a repeated exposition timestamp updates in place
      return;
    }
    retainedPoints += s.history->push(p, maxPoints);
    retainedPoints -= s.history->dropOlderThan(p.t - historySpan(s.family->second.window));
  }

  // Calls fn(point) for every point with from <= t <= to, oldest first.
  template <class Fn>
  void forEach(SeriesId id, Seconds from, Seconds to, Fn&& fn) const {
    const Series& s = series[id];
    if (s.history) {
      const PointRing& h = *s.history;
      h.forRange(h.lowerBound(from), h.upperBound(to), fn);
    } else if (s.seen && s.last.t >= from && s.last.t <= to) {
      fn(s.last);
    }
  }

  // A counter's increase over [from, to] (a drop is a reset to zero, as
  // PromQL's increase()) and the span of the non-NaN points it used, in one
  // pass: increase() and rate() are read every policy tick.
  struct Increase {
    std::size_t points = 0;
    double total = 0;
    Seconds first = 0, last = 0;
  };
  Increase increaseOf(SeriesId id, Seconds from, Seconds to) const {
    Increase inc;
    double prev = 0;
    forEach(id, from, to, [&](const Point& p) {
      if (std::isnan(p.v)) return;
      if (inc.points == 0) {
        inc.first = p.t;
      } else {
        inc.total += p.v < prev ? p.v : p.v - prev;
      }
      prev = p.v;
      inc.last = p.t;
      ++inc.points;
    });
    return inc;
  }

  const Labels& labelsOf(SeriesId id) const {
    auto [it, inserted] = labelCache.try_emplace(id);
    if (inserted) {
      std::string name;
      if (!parseSeriesKey(*series[id].key, name, it->second)) it->second.clear();
    }
    return it->second;
  }
};

SeriesStore::SeriesStore(StoreOptions options) : options_(options), impl_(std::make_unique<Impl>()) {
  options_.maxPointsPerSeries = std::max<std::size_t>(1, options_.maxPointsPerSeries);
  options_.staleAfterScrapes = std::max(1, options_.staleAfterScrapes);
}

SeriesStore::~SeriesStore() = default;

int SeriesStore::registerSource(std::string_view sourceName) {
  auto& sources = impl_->sources;
  for (std::size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].name == sourceName) return static_cast<int>(i);
  }
  if (sources.size() > std::numeric_limits<std::uint16_t>::max()) return -1;
  sources.push_back(Impl::Source{std::string(sourceName), 0});
  return static_cast<int>(sources.size() - 1);
}

SeriesStore::IngestProblems SeriesStore::ingest(int source, const SampleBatch& batch, Seconds now) {
  Impl& im = *impl_;
  IngestProblems problems;
  if (source < 0 || static_cast<std::size_t>(source) >= im.sources.size()) return problems;
  std::uint32_t scrape = ++im.sources[source].scrapes;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const SampleBatch::Entry& e = batch.entry(i);
    std::string_view key = batch.key(i);
    SeriesId id;
    if (auto it = im.byKey.find(key); it != im.byKey.end()) {
      id = it->second;
    } else {
      if (im.series.size() >= options_.maxSeries) {
        ++im.dropped;
        continue;
      }
      id = static_cast<SeriesId>(im.series.size());
      auto node = im.byKey.emplace(std::string(key), id).first;
      Impl::NameNode& family = im.nameEntry(batch.name(i));
      Impl::Series s{&node->first, &family, nullptr};
      if (family.second.window > 0) s.history = std::make_unique<PointRing>();
      im.series.push_back(std::move(s));
      family.second.ids.push_back(id);
    }
    Impl::Series& s = im.series[id];
    if (s.seen && s.source == source && s.lastScrape == scrape) {
      if (problems.duplicates++ == 0) problems.firstDuplicate = std::string(key);
      continue;
    }
    const Seconds t = std::isnan(e.timestamp) ? now : e.timestamp;
    if (t > now + kMaxFutureSkew) {
      if (problems.future++ == 0) problems.firstFuture = std::string(key);
      continue;
    }
    if (s.seen && t < s.last.t) {
      ++problems.outOfOrder;
      continue;
    }
    s.type = e.type;
    s.source = static_cast<std::uint16_t>(source);
    s.lastScrape = scrape;
    im.record(s, Point{t, e.value}, options_.maxPointsPerSeries);
    s.seen = true;
  }
  return problems;
}

void SeriesStore::markFailedScrape(int source, Seconds /*now*/) {
  if (source < 0 || static_cast<std::size_t>(source) >= impl_->sources.size()) return;
  ++impl_->sources[source].scrapes;
}

void SeriesStore::retain(std::string_view metricName, Seconds window) {
  Impl& im = *impl_;
  if (!(window >= 0)) window = 0;  // NaN or negative: latest only
  Impl::NameEntry& entry = im.nameEntry(metricName).second;
  if (window <= entry.window) return;
  if (entry.window < 0) {  // a family joins the read filter
    ++im.readFilterGeneration;
    ++im.retainedFamilies;
  }
  entry.window = window;
  if (window == 0) return;
  for (SeriesId id : entry.ids) {
    Impl::Series& s = im.series[id];
    if (s.history) continue;
    s.history = std::make_unique<PointRing>();
    if (s.seen) im.retainedPoints += s.history->push(s.last, options_.maxPointsPerSeries);
  }
}

std::uint64_t SeriesStore::readFilterGeneration() const { return impl_->readFilterGeneration; }

bool SeriesStore::retains(std::string_view metricName) const {
  auto it = impl_->byName.find(metricName);
  return it != impl_->byName.end() && it->second.window >= 0;
}

std::size_t SeriesStore::retainedFamilies() const { return impl_->retainedFamilies; }

FamilyFilter SeriesStore::readFilter() const {
  FamilyFilter filter;
  for (const auto& [name, entry] : impl_->byName) {
    if (entry.window >= 0) filter.add(name);
  }
  return filter;
}

std::vector<SeriesId> SeriesStore::select(std::string_view name,
                                          const std::vector<LabelMatcher>& matchers) const {
  std::vector<SeriesId> out;
  selectInto(name, matchers, out);
  return out;
}

void SeriesStore::selectInto(std::string_view name, const std::vector<LabelMatcher>& matchers,
                             std::vector<SeriesId>& out) const {
  out.clear();
  auto it = impl_->byName.find(name);
  if (it == impl_->byName.end()) return;
  if (matchers.empty()) {  // the common read: every series of the family
    out.assign(it->second.ids.begin(), it->second.ids.end());
    return;
  }
  // A matcher built by hand (not by makeLabelMatcher) is compiled here, once per call.
  std::vector<std::unique_ptr<re2::RE2>> local(matchers.size());
  for (std::size_t m = 0; m < matchers.size(); ++m) {
    const LabelMatcher& lm = matchers[m];
    bool isRegex = lm.op == LabelMatcher::Op::Regex || lm.op == LabelMatcher::Op::NotRegex;
    if (!isRegex || lm.compiled) continue;
    local[m] = compileLabelRegex(lm.value);
    if (!local[m]->ok()) return;  // a regex that does not compile matches nothing
  }
  for (SeriesId id : it->second.ids) {
    const Impl::Series& s = impl_->series[id];
    bool all = true;
    for (std::size_t m = 0; m < matchers.size() && all; ++m) {
      const LabelMatcher& lm = matchers[m];
      std::string_view value;
      if (lm.name == "__name__") {
        value = s.family->first;
      } else if (!lm.name.empty()) {
        for (const Label& l : impl_->labelsOf(id)) {
          if (l.name == lm.name) value = l.value;
        }
      }
      switch (lm.op) {
        case LabelMatcher::Op::Equal: all = value == lm.value; break;
        case LabelMatcher::Op::NotEqual: all = value != lm.value; break;
        case LabelMatcher::Op::Regex:
        case LabelMatcher::Op::NotRegex: {
          const re2::RE2& re = lm.compiled ? *lm.compiled : *local[m];
          bool hit = re2::RE2::FullMatch(re2::StringPiece(value.data(), value.size()), re);
          all = (lm.op == LabelMatcher::Op::Regex) == hit;
          break;
        }
      }
    }
    if (all) out.push_back(id);
  }
}

const std::string& SeriesStore::key(SeriesId id) const {
  return id < impl_->series.size() ? *impl_->series[id].key : kEmpty;
}

std::string_view SeriesStore::name(SeriesId id) const {
  if (id >= impl_->series.size()) return {};
  const auto& s = impl_->series[id];
  return s.family->first;
}

Labels SeriesStore::labels(SeriesId id) const {
  if (id >= impl_->series.size()) return {};
  return impl_->labelsOf(id);
}

MetricType SeriesStore::type(SeriesId id) const {
  return id < impl_->series.size() ? impl_->series[id].type : MetricType::Unknown;
}

Latest SeriesStore::latest(SeriesId id) const {
  Latest out;
  if (id >= impl_->series.size()) return out;
  const auto& s = impl_->series[id];
  if (!s.seen) return out;
  out.found = true;
  out.stale = impl_->isStale(s, options_.staleAfterScrapes);
  out.value = s.last.v;
  out.timestamp = s.last.t;
  return out;
}

bool SeriesStore::isStale(SeriesId id) const {
  if (id >= impl_->series.size()) return true;
  return impl_->isStale(impl_->series[id], options_.staleAfterScrapes);
}

void SeriesStore::points(SeriesId id, Seconds from, Seconds to, std::vector<Point>& out) const {
  if (id >= impl_->series.size()) return;
  impl_->forEach(id, from, to, [&](const Point& p) { out.push_back(p); });
}

WindowStats SeriesStore::stats(SeriesId id, Seconds from, Seconds to) const {
  WindowStats w;
  if (id >= impl_->series.size()) return w;
  // Two passes: sums first, then squared deviations from the mean (stable
  // for large offsets, like Welford, without a division per point: windows
  // are read every policy tick).
  double sum = 0;
  impl_->forEach(id, from, to, [&](const Point& p) {
    if (std::isnan(p.v)) return;
    if (w.count == 0) {
      w.first = w.min = w.max = p.v;
    } else {
      w.min = std::min(w.min, p.v);
      w.max = std::max(w.max, p.v);
    }
    w.last = p.v;
    ++w.count;
    sum += p.v;
  });
  if (w.count == 0) return w;
  w.sum = sum;
  w.avg = sum / static_cast<double>(w.count);
  double squares = 0;
  if (w.max > w.min) {
    const double mean = w.avg;
    impl_->forEach(id, from, to, [&](const Point& p) {
      if (std::isnan(p.v)) return;
      double d = p.v - mean;
      squares += d * d;
    });
  }
  w.stddev = std::sqrt(squares / static_cast<double>(w.count));
  return w;
}

double SeriesStore::quantile(SeriesId id, Seconds from, Seconds to, double q) const {
  if (id >= impl_->series.size() || !(q >= 0 && q <= 1)) return NAN;
  std::vector<double> values;
  impl_->forEach(id, from, to, [&](const Point& p) {
    if (!std::isnan(p.v)) values.push_back(p.v);
  });
  if (values.empty()) return NAN;
  std::sort(values.begin(), values.end());
  double pos = q * static_cast<double>(values.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, values.size() - 1);
  double frac = pos - static_cast<double>(lo);
  if (frac == 0) return values[lo];
  return values[lo] + (values[hi] - values[lo]) * frac;
}

std::optional<double> SeriesStore::increase(SeriesId id, Seconds from, Seconds to) const {
  if (id >= impl_->series.size()) return std::nullopt;
  Impl::Increase inc = impl_->increaseOf(id, from, to);
  if (inc.points < 2) return std::nullopt;
  return inc.total;
}

std::optional<double> SeriesStore::rate(SeriesId id, Seconds from, Seconds to) const {
  if (id >= impl_->series.size()) return std::nullopt;
  Impl::Increase inc = impl_->increaseOf(id, from, to);
  if (inc.points < 2 || !(inc.last > inc.first)) return std::nullopt;
  return inc.total / (inc.last - inc.first);
}

std::size_t SeriesStore::seriesCount() const { return impl_->series.size(); }
std::uint64_t SeriesStore::droppedSeries() const { return impl_->dropped; }
std::size_t SeriesStore::retainedPoints() const { return impl_->retainedPoints; }

}  // namespace trimtab
