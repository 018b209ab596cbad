// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/clock.h"
#include "common/result.h"

namespace trimtab {

// "250ms", "5s", "2m", "1h30m", "1d", "1.5s". A bare number is seconds.
// Errors say what was expected. Negative durations are rejected.
Result<Seconds> parseDuration(std::string_view text);

// "512", "64KiB", "2GiB", "1.5MB" (SI: kB/MB/GB = 10^3.., IEC: KiB/MiB/GiB =
// 2^10..), "100B". A bare number is bytes.
Result<std::uint64_t> parseSize(std::string_view text);

// A whole plain number as written in a config ("42", "+1.5", "1e3"):
// finite, nothing after it. No units (see parseDuration, parseSize).
std::optional<double> parseFiniteNumber(std::string_view text);

// Prometheus' spelling of the values JSON has no number for: "NaN", "+Inf"
// (or "Inf") and "-Inf". nullopt for anything else.
std::optional<double> parseNonFinite(std::string_view text);

// The shortest decimal that reads back to exactly `v` ("0.1", "1e+21",
// "42"); "nan", "inf", "-inf" otherwise. For messages, reports and tests.
std::string formatShortest(double v);

// "90s", "2m30s", "1h": the shortest exact spelling, for messages and docs.
std::string formatDuration(Seconds seconds);

// "512B", "1.5KiB", "2GiB".
std::string formatSize(std::uint64_t bytes);

}  // namespace trimtab
