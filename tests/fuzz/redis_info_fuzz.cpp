// SPDX-License-Identifier: Apache-2.0
// The text of an INFO reply. Properties: no crash; every sample is one of
// the redis source's names (docs/metrics.md) with a key that parses back;
// a value that is not a number becomes a warning, never a sample.
#include <cmath>
#include <string>
#include <vector>

#include "common/metric.h"
#include "fuzz_check.h"
#include "sources/redis_info.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const FamilyFilter everything = FamilyFilter::everything();
  SampleBatch batch;
  std::vector<std::string> warnings;
  parseRedisInfo(fuzz::asText(data, size), everything, batch, warnings);
  std::string name;
  Labels labels;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    FUZZ_CHECK(batch.name(i).substr(0, 6) == "redis_", "only the redis source's names");
    FUZZ_CHECK(parseSeriesKey(batch.key(i), name, labels), "a canonical key parses back");
    FUZZ_CHECK(!std::isnan(batch.entry(i).value), "a sample is a number");
  }
  for (const auto& warning : warnings) FUZZ_CHECK(!warning.empty(), "a warning says what is wrong");
  return 0;
}
