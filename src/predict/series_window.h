// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/metric.h"
#include "predict/running_sums.h"

namespace trimtab {

// How raw samples are cleaned before any model sees them.
struct CleaningOptions {
  // Counter semantics: every decrease is a reset and later values are offset
  // by the value before it (as Prometheus' rate() does).
  bool counter = false;
  // Gauges: a drop to below this fraction of the previous value, ending a
  // non-decreasing run of at least minMonotoneRun steps, is a restart of the
  // process behind the series; history before it is dropped.
  double restartFraction = 0.1;
  int minMonotoneRun = 8;
  // A sample further than spikeMads scaled MADs from the median of its
  // spikeHalfWidth neighbours on each side is an outlier and is left out.
  double spikeMads = 6;
  int spikeHalfWidth = 4;
};

// What cleaning dropped or repaired, for the service's counters and tests.
struct CleaningCounts {
  std::uint64_t nonFinite = 0;   // NaN/Inf time or value
  std::uint64_t duplicates = 0;  // samples merged into an earlier one with the same time (averaged)
  std::uint64_t counterResets = 0;
  std::uint64_t restarts = 0;
  std::uint64_t spikes = 0;  // outliers left out (finalized ones only)
};

// The cleaned, time-bounded history of one series, maintained incrementally:
// append() takes the caller's raw window and uses only the samples after the
// newest one seen before (found by walking back from the end), so a caller
// may pass the same growing window every tick at O(new samples) cost; a
// sample that arrives late (older than one already seen) is ignored. Output points have finite values and strictly
// increasing times. The newest spikeHalfWidth samples are provisional: judged
// on the neighbours they have so far, and judged again as later ones arrive.
//
// Running sums (ordinary and exponentially weighted) always cover points().
//
// Thread safety: none.
class SeriesWindow {
 public:
  // REQUIRES: window > 0 (may be +inf; the history is also capped at kMaxPoints).
  SeriesWindow(Seconds window, CleaningOptions options, Seconds halfLife);

  static constexpr std::size_t kMaxPoints = 1u << 20;

  // Feeds raw samples in time order (unsorted input is sorted first).
  // Returns how many raw samples were new.
  std::size_t append(std::span<const Point> raw);

  std::span<const Point> points() const { return {points_.data() + head_, points_.size() - head_}; }
  const LinearSums& linear() const { return linear_; }
  const ExpWeightedSums& weighted() const { return weighted_; }
  // Recomputes the running sums from points() (sheds rounding drift); a
  // no-op when nothing changed since the last rebuild.
  void rebuildSums();
  const CleaningCounts& counts() const { return counts_; }
  Seconds window() const { return window_; }

 private:
  void ingest(const Point& p);     // after duplicate merging
  void pushStage(const Point& p);  // after reset handling
  bool isSpike(std::size_t index, std::size_t after) const;
  void emit(const Point& p);
  void dropProvisional();
  void addProvisional();
  void evict();
  void restart();

  Seconds window_;
  CleaningOptions options_;
  CleaningCounts counts_;

  bool seen_ = false;
  Seconds lastSeen_ = 0;
  bool havePrev_ = false;
  double prevRaw_ = 0;
  double offset_ = 0;
  int monotoneRun_ = 0;

  // Recent samples after reset handling, [stageHead_, end): context for the
  // spike test plus the trailing unjudged_ ones not finalized yet.
  std::vector<Point> stage_;
  std::size_t stageHead_ = 0;
  std::size_t unjudged_ = 0;

  std::vector<Point> points_;  // [head_, end): cleaned window; the last provisional_ are provisional
  std::size_t head_ = 0;
  std::size_t provisional_ = 0;
  LinearSums linear_;
  ExpWeightedSums weighted_;
  bool bulk_ = false;           // a large append: sums are rebuilt once at its end
  std::size_t sumChanges_ = 0;  // sum updates since the last rebuild
  std::vector<Point> scratch_;
};

// One-shot cleaning of a whole window (no state kept).
std::vector<Point> cleanPoints(std::span<const Point> raw, const CleaningOptions& options = {},
                               CleaningCounts* counts = nullptr);

}  // namespace trimtab
