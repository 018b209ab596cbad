// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/clock.h"

namespace trimtab {

// One timed value of a series.
struct Point {
  Seconds t;
  double v;
};

// Metric family types of the Prometheus text format and OpenMetrics.
enum class MetricType : std::uint8_t {
  Unknown,  // no TYPE line (Prometheus "untyped", OpenMetrics "unknown")
  Counter,
  Gauge,
  Histogram,
  GaugeHistogram,
  Summary,
  Info,
  StateSet,
};

// "counter", "gauge", ... ("unknown" for Unknown).
std::string_view metricTypeName(MetricType type);

struct Label {
  std::string name;
  std::string value;
  bool operator==(const Label&) const = default;
};
using Labels = std::vector<Label>;  // sorted by name in canonical form

struct LabelView {
  std::string_view name;
  std::string_view value;  // unescaped
};

// Canonical series key: name{a="1",b="x\"y"} with labels sorted by name and
// values escaped as in the text format (\\, \", \n); just `name` when there are
// no labels. Appends to `out` (no allocation once `out` has capacity).
// `labels` may be reordered (sorted in place).
void appendSeriesKey(std::string& out, std::string_view name, LabelView* labels, std::size_t count);
std::string seriesKey(std::string_view name, const Labels& labels);

// Prometheus' classic name syntax, the only one series keys carry:
// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names, without ':' for label names.
// (Prometheus 3 also allows quoted UTF-8 names such as "service.name"; a
// source must turn those away, or parseSeriesKey cannot read the key back.)
bool isMetricName(std::string_view name);
bool isLabelName(std::string_view name);

// Inverse of appendSeriesKey. Returns false on a malformed key.
bool parseSeriesKey(std::string_view key, std::string& name, Labels& labels);

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
};

// Which metric names a scrape must parse fully. Names not wanted are counted,
// not parsed (see DESIGN.md: a sidecar's cost follows what its policies read).
class FamilyFilter {
 public:
  FamilyFilter() : revision_(nextRevision()) {}
  static FamilyFilter everything() {
    FamilyFilter f;
    f.all_ = true;
    return f;
  }
  void add(std::string metricName) {
    names_.insert(std::move(metricName));
    revision_ = nextRevision();
  }
  bool wantsAll() const { return all_; }
  // Exact sample name match (a histogram's `x_bucket` is its own name).
  bool wants(std::string_view metricName) const {
    return all_ || names_.find(metricName) != names_.end();
  }
  std::size_t size() const { return names_.size(); }
  // Equal revisions mean equal filters (a copy keeps its original's), so a
  // source may remember its decisions per sample while the revision holds.
  std::uint64_t revision() const { return revision_; }

 private:
  static std::uint64_t nextRevision() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }
  bool all_ = false;
  std::uint64_t revision_;
  std::unordered_set<std::string, StringHash, std::equal_to<>> names_;
};

// Samples of one collection, stored flat: one text arena for the canonical
// keys plus a fixed-size entry per sample, so filling a reused batch does not
// allocate per sample.
class SampleBatch {
 public:
  struct Entry {
    std::uint32_t keyOffset;
    std::uint32_t keyLength;
    std::uint32_t nameLength;  // the metric name is the key's prefix
    MetricType type;
    double value;
    Seconds timestamp;  // NaN when the exposition gave none
  };

  void clear() {
    text_.clear();
    entries_.clear();
  }
  void reserve(std::size_t samples, std::size_t textBytes) {
    entries_.reserve(samples);
    text_.reserve(textBytes);
  }
  // Appends a sample whose canonical key the caller built.
  void addKey(std::string_view key, std::size_t nameLength, MetricType type, double value,
              Seconds timestamp = NAN) {
    Entry e{static_cast<std::uint32_t>(text_.size()), static_cast<std::uint32_t>(key.size()),
            static_cast<std::uint32_t>(nameLength), type, value, timestamp};
    text_.append(key);
    entries_.push_back(e);
  }
  // Appends a sample from a name and unsorted labels (sorted in place).
  void add(std::string_view name, LabelView* labels, std::size_t count, MetricType type,
           double value, Seconds timestamp = NAN) {
    std::uint32_t offset = static_cast<std::uint32_t>(text_.size());
    appendSeriesKey(text_, name, labels, count);
    entries_.push_back(Entry{offset, static_cast<std::uint32_t>(text_.size() - offset),
                             static_cast<std::uint32_t>(name.size()), type, value, timestamp});
  }
  // Convenience for models and tests: a sample without labels.
  void add(std::string_view name, MetricType type, double value) {
    add(name, nullptr, 0, type, value);
  }

  std::size_t size() const { return entries_.size(); }
  bool empty() const { return entries_.empty(); }
  const Entry& entry(std::size_t i) const { return entries_[i]; }
  std::string_view key(std::size_t i) const {
    return std::string_view(text_).substr(entries_[i].keyOffset, entries_[i].keyLength);
  }
  std::string_view name(std::size_t i) const {
    return std::string_view(text_).substr(entries_[i].keyOffset, entries_[i].nameLength);
  }

 private:
  std::string text_;
  std::vector<Entry> entries_;
};

}  // namespace trimtab
