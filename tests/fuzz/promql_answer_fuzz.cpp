// SPDX-License-Identifier: Apache-2.0
// A Prometheus /api/v1/query answer (JSON). Properties: no crash and no
// escaping exception; a success adds only samples under the query's name
// with keys that parse back; an error says what is wrong.
#include <string>
#include <vector>

#include "common/metric.h"
#include "fuzz_check.h"
#include "sources/promql_source.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  SampleBatch batch;
  std::vector<std::string> warnings;
  const Status status = parsePromqlAnswer(fuzz::asText(data, size), "fuzz_query", batch, warnings);
  if (!status) {
    FUZZ_CHECK(!status.error().message.empty(), "an error says what is wrong");
  }
  std::string name;
  Labels labels;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    FUZZ_CHECK(batch.name(i) == "fuzz_query", "samples are named after the query");
    FUZZ_CHECK(parseSeriesKey(batch.key(i), name, labels), "a canonical key parses back");
  }
  return 0;
}
