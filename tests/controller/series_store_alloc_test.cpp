// SPDX-License-Identifier: Apache-2.0
// Counts global operator new calls to check the store's hot path. Replacing
// operator new applies to the whole test_store binary; counting is off except
// inside a CountAllocations scope.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <malloc.h>
#include <new>
#include <string>

#include "controller/series_store.h"

namespace {

std::atomic<bool> gCounting{false};
std::atomic<std::size_t> gCount{0};
std::atomic<std::size_t> gBytes{0};
std::atomic<std::ptrdiff_t> gLive{0};  // bytes allocated minus bytes freed while counting

void* countedAlloc(std::size_t n) {
  if (gCounting.load(std::memory_order_relaxed)) {
    gCount.fetch_add(1, std::memory_order_relaxed);
    gBytes.fetch_add(n, std::memory_order_relaxed);
  }
  void* p = std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  if (gCounting.load(std::memory_order_relaxed)) {
    gLive.fetch_add(static_cast<std::ptrdiff_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  }
  return p;
}

void countedFree(void* p) {
  if (p && gCounting.load(std::memory_order_relaxed)) {
    gLive.fetch_sub(static_cast<std::ptrdiff_t>(malloc_usable_size(p)), std::memory_order_relaxed);
  }
  std::free(p);
}

struct CountAllocations {
  CountAllocations() {
    gCount = 0;
    gBytes = 0;
    gLive = 0;
    gCounting = true;
  }
  ~CountAllocations() { gCounting = false; }
  std::size_t count() const { return gCount.load(); }
  std::size_t bytes() const { return gBytes.load(); }
  // Only meaningful when everything freed in the scope was allocated in it.
  std::ptrdiff_t live() const { return gLive.load(); }
};

}  // namespace

void* operator new(std::size_t n) { return countedAlloc(n); }
void* operator new[](std::size_t n) { return countedAlloc(n); }
void operator delete(void* p) noexcept { countedFree(p); }
void operator delete[](void* p) noexcept { countedFree(p); }
void operator delete(void* p, std::size_t) noexcept { countedFree(p); }
void operator delete[](void* p, std::size_t) noexcept { countedFree(p); }

namespace trimtab {
namespace {

SampleBatch manySeries(int n, const std::string& name) {
  SampleBatch b;
  for (int i = 0; i < n; ++i) {
    std::string pod = "pod-" + std::to_string(i);
    LabelView labels[] = {{"pod", pod}, {"namespace", "default"}, {"job", "app"}};
    b.add(name, labels, 3, MetricType::Gauge, i);
  }
  return b;
}

}  // namespace

TEST_CASE("the allocation counter sees allocations (the checks below can fail)") {
  CountAllocations counter;
  auto* p = new std::string(100, 'x');
  delete p;
  CHECK(counter.count() >= 1);
}

TEST_CASE("ingesting an already-known batch does not allocate") {
  SeriesStore s;
  int src = s.registerSource("app");
  s.retain("window_metric", 30);
  SampleBatch b = manySeries(500, "plain_metric");
  SampleBatch w = manySeries(50, "window_metric");
  s.ingest(src, b, 0);
  // Fill the retained rings to their steady size (window / interval).
  Seconds t = 0;
  for (; t < 100; t += 1) s.ingest(src, w, t);

  CountAllocations counter;
  s.ingest(src, b, t);
  for (int i = 0; i < 20; ++i, t += 1) s.ingest(src, w, t);
  s.markFailedScrape(src, t);
  CHECK(counter.count() == 0);
}

TEST_CASE("10,000 last-sample series cost about two megabytes") {
  SampleBatch b = manySeries(10'000, "http_requests_total");
  std::ptrdiff_t live = 0;
  {
    CountAllocations counter;
    SeriesStore s;
    s.ingest(s.registerSource("app"), b, 0);
    live = counter.live();
    CHECK(s.seriesCount() == 10'000);
  }
  MESSAGE("heap held by 10,000 series: " << live << " bytes");
  CHECK(live > 0);
  CHECK(live < 3 * 1024 * 1024);
}

}  // namespace trimtab
