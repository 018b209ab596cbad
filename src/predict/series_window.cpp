// SPDX-License-Identifier: Apache-2.0
#include "predict/series_window.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace trimtab {

namespace {

constexpr double kMadToSd = 1.4826;  // MAD of a normal sample -> its standard deviation
constexpr int kMaxHalfWidth = 16;
// Appends of more new samples than this skip the per-sample sum updates and
// rebuild the sums once.
constexpr std::size_t kBulkAppend = 64;

bool finitePoint(const Point& p) { return std::isfinite(p.t) && std::isfinite(p.v); }

// Median of a few values (at most 2 * kMaxHalfWidth): insertion sort beats
// nth_element at this size, and this runs for every sample.
double medianOf(double* v, std::size_t n) {
  for (std::size_t i = 1; i < n; ++i) {
    double x = v[i];
    std::size_t j = i;
    for (; j > 0 && v[j - 1] > x; --j) v[j] = v[j - 1];
    v[j] = x;
  }
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

SeriesWindow::SeriesWindow(Seconds window, CleaningOptions options, Seconds halfLife)
    : window_(window), options_(options), weighted_(halfLife) {
  options_.spikeHalfWidth = std::clamp(options_.spikeHalfWidth, 0, kMaxHalfWidth);
}

std::size_t SeriesWindow::append(std::span<const Point> raw) {
  // New samples are at the end of the caller's window: walk back to the
  // first one already seen (non-finite times cannot be ordered and are skipped).
  std::size_t begin = raw.size();
  if (seen_) {
    while (begin > 0) {
      const Point& p = raw[begin - 1];
      if (std::isfinite(p.t) && p.t <= lastSeen_) break;
      --begin;
    }
  } else {
    begin = 0;
  }
  std::span<const Point> fresh = raw.subspan(begin);
  if (fresh.empty()) return 0;

  if (!std::is_sorted(fresh.begin(), fresh.end(), [](const Point& a, const Point& b) { return a.t < b.t; })) {
    scratch_.assign(fresh.begin(), fresh.end());
    // NaN times break the ordering: drop them before sorting.
    std::erase_if(scratch_, [&](const Point& p) {
      if (std::isfinite(p.t)) return false;
      ++counts_.nonFinite;
      return true;
    });
    std::stable_sort(scratch_.begin(), scratch_.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    fresh = scratch_;
  }

  bulk_ = fresh.size() > kBulkAppend;
  dropProvisional();
  // Samples sharing one time are averaged into one.
  bool pending = false;
  Point group{0, 0};
  double sum = 0;
  int n = 0;
  for (const Point& p : fresh) {
    if (!finitePoint(p)) {
      ++counts_.nonFinite;
      continue;
    }
    if (pending && p.t == group.t) {
      sum += p.v;
      ++n;
      ++counts_.duplicates;
      continue;
    }
    if (pending) ingest(Point{group.t, sum / n});
    pending = true;
    group = p;
    sum = p.v;
    n = 1;
    seen_ = true;
    lastSeen_ = p.t;
  }
  if (pending) ingest(Point{group.t, sum / n});
  addProvisional();
  evict();
  if (bulk_) {
    bulk_ = false;
    sumChanges_ = 1;
    rebuildSums();
  }
  return fresh.size();
}

void SeriesWindow::ingest(const Point& raw) {
  Point p = raw;
  if (havePrev_) {
    if (options_.counter) {
      if (raw.v < prevRaw_) {
        offset_ += prevRaw_;
        ++counts_.counterResets;
      }
    } else if (prevRaw_ > 0 && raw.v < options_.restartFraction * prevRaw_ && monotoneRun_ >= options_.minMonotoneRun) {
      ++counts_.restarts;
      restart();
    }
    monotoneRun_ = raw.v >= prevRaw_ ? monotoneRun_ + 1 : 0;
  }
  havePrev_ = true;
  prevRaw_ = raw.v;
  p.v = raw.v + offset_;
  pushStage(p);
}

void SeriesWindow::restart() {
  stage_.clear();
  stageHead_ = 0;
  unjudged_ = 0;
  points_.clear();
  head_ = 0;
  provisional_ = 0;
  linear_.clear();
  weighted_.clear();
  offset_ = 0;
  monotoneRun_ = 0;
}

void SeriesWindow::pushStage(const Point& p) {
  const std::size_t k = static_cast<std::size_t>(options_.spikeHalfWidth);
  stage_.push_back(p);
  ++unjudged_;
  while (unjudged_ > k) {
    std::size_t i = stage_.size() - unjudged_;
    if (isSpike(i, k)) {
      ++counts_.spikes;
    } else {
      emit(stage_[i]);
    }
    --unjudged_;
  }
  stageHead_ = std::max(stageHead_, stage_.size() - unjudged_ - std::min(k, stage_.size() - unjudged_));
  // Compact once the dead prefix dominates: amortized O(1) per sample.
  if (stageHead_ > 64 && stageHead_ * 2 > stage_.size()) {
    stage_.erase(stage_.begin(), stage_.begin() + static_cast<std::ptrdiff_t>(stageHead_));
    stageHead_ = 0;
  }
}

bool SeriesWindow::isSpike(std::size_t index, std::size_t after) const {
  const std::size_t k = static_cast<std::size_t>(options_.spikeHalfWidth);
  std::array<double, 2 * kMaxHalfWidth> nb;
  std::size_t n = 0;
  std::size_t from = index >= stageHead_ + k ? index - k : stageHead_;
  std::size_t to = std::min(stage_.size(), index + 1 + after);
  double v = stage_[index].v;
  double lo = v, hi = v;
  for (std::size_t j = from; j < to; ++j) {
    if (j == index) continue;
    double x = stage_[j].v;
    nb[n++] = x;
    lo = std::min(lo, x);
    hi = std::max(hi, x);
  }
  if (n < 2) return false;
  // An outlier is an extreme; anything inside its neighbours' range is kept
  // without the cost of two medians.
  if (v > lo && v < hi) return false;
  double m = medianOf(nb.data(), n);
  std::array<double, 2 * kMaxHalfWidth> dev;
  for (std::size_t j = 0; j < n; ++j) dev[j] = std::abs(nb[j] - m);
  double scale = kMadToSd * medianOf(dev.data(), n);
  double d = std::abs(v - m);
  if (scale > 0) return d > options_.spikeMads * scale;
  // Flat neighbourhood: any departure is isolated (a step keeps its later
  // samples and is accepted once they outnumber the old level).
  return d > 1e-12 * std::max(std::abs(m), 1e-300);
}

void SeriesWindow::emit(const Point& p) {
  points_.push_back(p);
  if (bulk_) return;
  linear_.add(p);
  weighted_.add(p);
  ++sumChanges_;
}

void SeriesWindow::dropProvisional() {
  for (; provisional_ > 0; --provisional_) {
    const Point& p = points_.back();
    if (!bulk_) {
      linear_.remove(p);
      weighted_.remove(p);
      ++sumChanges_;
    }
    points_.pop_back();
  }
}

void SeriesWindow::addProvisional() {
  for (std::size_t i = stage_.size() - unjudged_; i < stage_.size(); ++i) {
    std::size_t after = stage_.size() - 1 - i;
    if (isSpike(i, after)) continue;
    emit(stage_[i]);
    ++provisional_;
  }
}

void SeriesWindow::evict() {
  if (points_.size() == head_) return;
  Seconds cutoff = points_.back().t - window_;
  std::size_t limit = points_.size() - provisional_;
  while (head_ < limit && (points_[head_].t < cutoff || points_.size() - head_ > kMaxPoints)) {
    if (!bulk_) {
      linear_.remove(points_[head_]);
      weighted_.remove(points_[head_]);
      ++sumChanges_;
    }
    ++head_;
  }
  // Compact once the dead prefix dominates: amortized O(1) per point.
  if (head_ > 1024 && head_ * 2 > points_.size()) {
    points_.erase(points_.begin(), points_.begin() + static_cast<std::ptrdiff_t>(head_));
    head_ = 0;
  }
}

void SeriesWindow::rebuildSums() {
  if (sumChanges_ == 0) return;
  linear_.rebuild(points());
  weighted_.rebuild(points());
  sumChanges_ = 0;
}

std::vector<Point> cleanPoints(std::span<const Point> raw, const CleaningOptions& options, CleaningCounts* counts) {
  SeriesWindow w(std::numeric_limits<double>::infinity(), options, 1);
  w.append(raw);
  if (counts) *counts = w.counts();
  auto pts = w.points();
  return {pts.begin(), pts.end()};
}

}  // namespace trimtab
