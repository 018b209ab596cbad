// SPDX-License-Identifier: Apache-2.0
// The hot path allocates nothing per sample once scratch buffers have grown:
// this binary replaces the global operator new to count allocations.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

#include "sources/exposition_parser.h"

namespace {

std::atomic<std::size_t> gAllocations{0};

}  // namespace

void* operator new(std::size_t size) {
  gAllocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

using namespace trimtab;

namespace {

// 50 families x 40 series x 4 labels, some values escaped, some timestamps.
std::string syntheticBody() {
  std::string body;
  for (int m = 0; m < 50; ++m) {
    const std::string name = "metric_" + std::to_string(m) + "_total";
    body += "# HELP " + name + " Help for \\\\ metric " + std::to_string(m) + ".\n";
    body += "# TYPE " + name + " counter\n";
    for (int i = 0; i < 40; ++i) {
      body += name + "{service=\"checkout\",instance=\"10.0." + std::to_string(m) + "." + std::to_string(i) +
              ":8080\",method=\"" + (i % 7 ? "GET" : "P\\\"OST") + "\",code=\"" + std::to_string(200 + i % 5) +
              "\"} " + std::to_string(i * 1000.25) + (i % 3 ? "" : " 1700000000000") + "\n";
    }
  }
  return body;
}

class SumVisitor final : public ExpositionVisitor {
 public:
  void onSample(const ExpositionSample& s) override {
    sum += s.value + static_cast<double>(s.labelCount);
  }
  double sum = 0;
};

}  // namespace

TEST_CASE("no allocation per sample once the parser and the batch have grown") {
  const std::string body = syntheticBody();
  ExpositionParser parser;
  SampleBatch batch;
  const FamilyFilter all = FamilyFilter::everything();
  FamilyFilter some;
  some.add("metric_3_total");
  some.add("metric_30_total");
  SumVisitor visitor;

  auto first = parser.parseInto(body, ExpositionFormat::Prometheus004, all, batch);
  REQUIRE(first.errors.empty());
  REQUIRE(batch.size() == 2000);
  (void)parser.parse(body, ExpositionFormat::Prometheus004, some, visitor);

  SUBCASE("parseInto a cleared batch") {
    batch.clear();
    std::size_t before = gAllocations.load();
    auto stats = parser.parseInto(body, ExpositionFormat::Prometheus004, all, batch);
    std::size_t allocations = gAllocations.load() - before;
    CHECK(stats.samplesParsed == 2000);
    CHECK(batch.size() == 2000);
    CHECK(allocations == 0);
  }
  SUBCASE("visitor, full parse") {
    std::size_t before = gAllocations.load();
    auto stats = parser.parse(body, ExpositionFormat::Prometheus004, all, visitor);
    std::size_t allocations = gAllocations.load() - before;
    CHECK(stats.samplesParsed == 2000);
    CHECK(allocations == 0);
  }
  SUBCASE("visitor, filtered parse") {
    std::size_t before = gAllocations.load();
    auto stats = parser.parse(body, ExpositionFormat::Prometheus004, some, visitor);
    std::size_t allocations = gAllocations.load() - before;
    CHECK(stats.samplesParsed == 80);
    CHECK(stats.samplesSkipped == 1920);
    CHECK(allocations == 0);
  }
  SUBCASE("the counter does count") {
    std::size_t before = gAllocations.load();
    std::string s(100, 'x');
    CHECK(gAllocations.load() - before >= 1);
    CHECK(s.size() == 100);
  }
}
