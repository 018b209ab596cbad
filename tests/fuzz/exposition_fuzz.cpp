// SPDX-License-Identifier: Apache-2.0
// A scrape body, parsed as Prometheus 0.0.4 and as OpenMetrics. Properties:
// no crash; every sample kept has a non-empty name and a canonical key that
// parses back to that name (the store and the policies index by it); errors
// point at lines the body has; the counts add up.
#include <algorithm>
#include <string>

#include "common/metric.h"
#include "fuzz_check.h"
#include "sources/exposition_parser.h"

using namespace trimtab;

namespace {

void parseAs(std::string_view body, ExpositionFormat format) {
  static ExpositionParser parser;  // reused, as a source reuses it across scrapes
  static const FamilyFilter everything = FamilyFilter::everything();
  SampleBatch batch;
  const ExpositionStats stats = parser.parseInto(body, format, everything, batch);
  FUZZ_CHECK(stats.bytes == body.size(), "every byte counted");
  FUZZ_CHECK(stats.samplesParsed == batch.size(), "each parsed sample reaches the batch");
  FUZZ_CHECK(stats.errors.size() <= kMaxRecordedExpositionErrors, "error list capped");
  for (const auto& error : stats.errors) {
    // An empty OpenMetrics body misses its "# EOF" on line 1.
    FUZZ_CHECK(error.line <= std::max<std::size_t>(stats.lines, 1), "an error names a line of the body");
    FUZZ_CHECK(!error.message.empty(), "an error says what is wrong");
  }
  std::string name;
  Labels labels;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    FUZZ_CHECK(!batch.name(i).empty(), "a sample has a name");
    FUZZ_CHECK(parseSeriesKey(batch.key(i), name, labels), "a canonical key parses back");
    FUZZ_CHECK(name == batch.name(i), "the key's name is the sample's");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body = fuzz::asText(data, size);
  parseAs(body, ExpositionFormat::Prometheus004);
  parseAs(body, ExpositionFormat::OpenMetrics);
  return 0;
}
