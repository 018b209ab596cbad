// SPDX-License-Identifier: Apache-2.0
// Durations, sizes and numbers as written in configs and policy calls
// ("1h30m", "64KiB", "1e3"). Properties: no crash; what is accepted is a
// number in range; the spelling trimtab prints for a value reads back to
// exactly that value (messages and docs quote formatDuration/formatSize).
#include <cmath>
#include <string>

#include "common/units.h"
#include "fuzz_check.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = fuzz::asText(data, size);
  if (auto seconds = parseDuration(text)) {
    FUZZ_CHECK(*seconds >= 0 && !std::isnan(*seconds), "a duration is a number, not negative");
    if (std::isfinite(*seconds)) {
      auto again = parseDuration(formatDuration(*seconds));
      FUZZ_CHECK(again.ok() && *again == *seconds, "formatDuration reads back exactly");
    }
  } else {
    FUZZ_CHECK(!seconds.error().message.empty(), "an error says what is wrong");
  }
  if (auto bytes = parseSize(text)) {
    auto again = parseSize(formatSize(*bytes));
    FUZZ_CHECK(again.ok() && *again == *bytes, "formatSize reads back exactly");
  }
  if (auto number = parseFiniteNumber(text)) FUZZ_CHECK(std::isfinite(*number), "a finite number");
  if (auto special = parseNonFinite(text)) FUZZ_CHECK(!std::isfinite(*special), "only NaN and infinities");
  return 0;
}
