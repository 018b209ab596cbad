// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/clock.h"
#include "common/metric.h"

namespace re2 {
class RE2;
}

namespace trimtab {

struct StoreOptions {
  std::size_t maxSeries = 10'000;          // cardinality cap: new series past it are dropped and counted
  int staleAfterScrapes = 3;               // a series not seen in this many scrapes of its source is stale
  std::size_t maxPointsPerSeries = 200'000;  // hard bound on one history, whatever the window
};

// Selects series by label: =, !=, =~, !~ (regexes are fully anchored, as in
// PromQL, and in its syntax: RE2, which matches in time linear in the value
// and without recursion, so no scraped label can make a read slow or
// overflow the stack, as std::regex did on a 20,000-byte value).
struct LabelMatcher {
  enum class Op { Equal, NotEqual, Regex, NotRegex };
  std::string name;
  Op op = Op::Equal;
  std::string value;
  std::shared_ptr<const re2::RE2> compiled;  // set for Regex/NotRegex by makeLabelMatcher
};
// Returns nullopt with `error` set when the regex does not compile.
std::optional<LabelMatcher> makeLabelMatcher(std::string name, LabelMatcher::Op op,
                                             std::string value, std::string* error);

using SeriesId = std::uint32_t;

struct Latest {
  bool found = false;
  bool stale = false;
  double value = NAN;
  Seconds timestamp = 0;
};

struct WindowStats {
  std::size_t count = 0;
  double avg = NAN, min = NAN, max = NAN, sum = NAN, first = NAN, last = NAN, stddev = NAN;
};

// How far ahead of the scrape's time a sample's own timestamp may be.
inline constexpr Seconds kMaxFutureSkew = 600;

// The controller's memory of metrics: series keyed by name and labels.
//
// History is kept only where it is read: retain(name, window) gives every
// series of that name a time-bounded ring buffer as long as the longest window
// asked for; other series keep their last sample only. Memory is bounded by
// maxSeries and maxPointsPerSeries.
//
// Staleness: each source has a scrape counter; a series not seen in
// `staleAfterScrapes` scrapes of its source (failed scrapes count) is stale.
// A series belongs to the source that delivered it last.
//
// Samples: a sample older than the series' newest point is ignored (but still
// counts as seen); one with the same timestamp replaces the newest value. NaN
// values are stored and returned by latest() and points(), but stats(),
// quantile(), increase() and rate() skip them (WindowStats::count counts
// non-NaN points only).
//
// Cardinality: once seriesCount() == maxSeries, every sample of an unknown
// series is refused and counted in droppedSeries() (so a refused series that
// keeps coming counts once per scrape); the caller logs the warning.
//
// Thread safety: none; owned by the loop thread.
class SeriesStore {
 public:
  explicit SeriesStore(StoreOptions options = {});
  ~SeriesStore();
  SeriesStore(const SeriesStore&) = delete;
  SeriesStore& operator=(const SeriesStore&) = delete;

  // --- writes ---
  // Returns a small integer id for a source name (idempotent). -1 past 65,536
  // sources; writes with an invalid id are ignored.
  int registerSource(std::string_view sourceName);
  // What one ingest() found wrong in its batch.
  struct IngestProblems {
    std::size_t duplicates = 0;  // samples of a series already in the batch: dropped
    std::string firstDuplicate;  // the series key of the first of them
    std::size_t future = 0;      // timestamped past now + kMaxFutureSkew: dropped
    std::string firstFuture;
    std::size_t outOfOrder = 0;  // older than the series' newest sample: dropped
  };
  // One successful collection of `source` at time `now`. Samples without a
  // timestamp get `now`. Series of that source absent from the batch count a
  // missed scrape. A series twice in one batch keeps its first sample (as
  // Prometheus does); the others are counted. A sample timestamped more than
  // kMaxFutureSkew after `now` (a clock jump, milliseconds read as seconds)
  // or before the series' newest one is dropped and counts as missed: taken,
  // the first would freeze the series, whose later samples are all older,
  // and a series whose samples are all dropped must go stale, not look
  // fresh. Hot path: no allocation for series already known.
  IngestProblems ingest(int source, const SampleBatch& batch, Seconds now);
  // A failed collection: every series of the source counts a missed scrape.
  void markFailedScrape(int source, Seconds now);
  // Keep history of `metricName` for at least `window` seconds (0: latest only,
  // but still parse it). Idempotent; the longest window wins.
  void retain(std::string_view metricName, Seconds window);
  // The names read so far, for the scrape parser.
  FamilyFilter readFilter() const;
  // Changes whenever readFilter() would: a caller rebuilds its copy only then.
  std::uint64_t readFilterGeneration() const;
  // Whether retain() named `metricName`; how many names it has been given.
  bool retains(std::string_view metricName) const;
  std::size_t retainedFamilies() const;

  // --- reads ---
  // Series of `name` whose labels match all matchers (label absent = "";
  // "__name__" matches the metric name). Ids are stable for the store's life.
  std::vector<SeriesId> select(std::string_view name, const std::vector<LabelMatcher>& matchers) const;
  // The same into `out` (cleared first), reusing its buffer: the read path.
  void selectInto(std::string_view name, const std::vector<LabelMatcher>& matchers,
                  std::vector<SeriesId>& out) const;
  const std::string& key(SeriesId id) const;
  std::string_view name(SeriesId id) const;
  Labels labels(SeriesId id) const;
  MetricType type(SeriesId id) const;
  Latest latest(SeriesId id) const;
  bool isStale(SeriesId id) const;
  // Points with from <= t <= to, oldest first, appended to `out`.
  void points(SeriesId id, Seconds from, Seconds to, std::vector<Point>& out) const;
  WindowStats stats(SeriesId id, Seconds from, Seconds to) const;
  // q in [0,1], linear interpolation between order statistics; NaN when empty.
  double quantile(SeriesId id, Seconds from, Seconds to, double q) const;
  // Increase of a counter over [from, to], treating any drop as a reset (the
  // value after a reset counts from zero, as PromQL's increase()). nullopt with
  // fewer than two points.
  std::optional<double> increase(SeriesId id, Seconds from, Seconds to) const;
  // increase / elapsed seconds between the first and last point used.
  std::optional<double> rate(SeriesId id, Seconds from, Seconds to) const;

  // --- accounting (own metrics) ---
  std::size_t seriesCount() const;
  std::uint64_t droppedSeries() const;  // refused by the cardinality cap, cumulative
  std::size_t retainedPoints() const;   // points held in all histories
  const StoreOptions& options() const { return options_; }

 private:
  StoreOptions options_;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace trimtab
