// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "common/metric.h"

namespace trimtab {

// The history of one retained series: points in time order in a ring whose
// capacity grows geometrically up to a hard cap, then overwrites the oldest.
// Private to SeriesStore.
class PointRing {
 public:
  static constexpr std::size_t kInitialCapacity = 16;

  std::size_t size() const { return size_; }
  std::size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  // REQUIRES: i < size(); 0 is the oldest point.
  const Point& at(std::size_t i) const { return buf_[wrap(head_ + i)]; }
  Point& back() { return buf_[wrap(head_ + size_ - 1)]; }
  const Point& back() const { return buf_[wrap(head_ + size_ - 1)]; }

  // Appends a point. Returns the number of points added to the ring's total
  // (0 when the cap forced the oldest point out, else 1).
  std::size_t push(Point p, std::size_t maxPoints) {
    if (size_ == capacity_) {
      if (capacity_ < maxPoints) {
        grow(std::min(maxPoints, std::max(kInitialCapacity, capacity_ * 2)));
      } else {
        buf_[head_] = p;  // full at the cap: the oldest point makes room
        head_ = wrap(head_ + 1);
        return 0;
      }
    }
    buf_[wrap(head_ + size_)] = p;
    ++size_;
    return 1;
  }

  // Drops points older than `t`; returns how many.
  std::size_t dropOlderThan(Seconds t) {
    std::size_t dropped = 0;
    while (size_ > 0 && buf_[head_].t < t) {
      head_ = wrap(head_ + 1);
      --size_;
      ++dropped;
    }
    return dropped;
  }

  // Index of the first point with t >= from (size() when none).
  std::size_t lowerBound(Seconds from) const {
    return partition([from](const Point& p) { return p.t < from; });
  }
  // Index of the first point with t > to (size() when none).
  std::size_t upperBound(Seconds to) const {
    if (size_ > 0 && back().t <= to) return size_;  // the usual read: up to now
    return partition([to](const Point& p) { return p.t <= to; });
  }

  // Calls fn(point) for the points [begin, end), oldest first, walking the
  // ring as (at most) two contiguous runs: windows are read every policy tick.
  template <class Fn>
  void forRange(std::size_t begin, std::size_t end, Fn&& fn) const {
    if (begin >= end) return;
    const std::size_t first = head_ + begin;  // unwrapped positions
    const std::size_t last = head_ + end;
    const std::size_t split = std::min(last, capacity_);
    for (std::size_t i = first; i < split; ++i) fn(buf_[i]);
    for (std::size_t i = std::max(first, capacity_); i < last; ++i) fn(buf_[i - capacity_]);
  }

 private:
  std::size_t wrap(std::size_t i) const { return i >= capacity_ ? i - capacity_ : i; }

  // Index of the first point for which `before` is false (points are in
  // time order, so `before` holds for a prefix).
  template <class Pred>
  std::size_t partition(Pred&& before) const {
    std::size_t lo = 0, hi = size_;
    while (lo < hi) {
      std::size_t mid = lo + (hi - lo) / 2;
      if (before(at(mid))) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }

  void grow(std::size_t newCapacity) {
    auto fresh = std::make_unique<Point[]>(newCapacity);
    for (std::size_t i = 0; i < size_; ++i) fresh[i] = at(i);
    buf_ = std::move(fresh);
    capacity_ = newCapacity;
    head_ = 0;
  }

  std::unique_ptr<Point[]> buf_;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;
  std::size_t size_ = 0;
};

}  // namespace trimtab
