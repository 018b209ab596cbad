// SPDX-License-Identifier: Apache-2.0
#include "common/units.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

using trimtab::formatDuration;
using trimtab::formatSize;
using trimtab::parseDuration;
using trimtab::parseSize;

namespace {

double duration(const std::string& text) {
  auto r = parseDuration(text);
  REQUIRE_MESSAGE(r.ok(), text << ": " << (r.ok() ? "" : r.error().message));
  return *r;
}

std::uint64_t size(const std::string& text) {
  auto r = parseSize(text);
  REQUIRE_MESSAGE(r.ok(), text << ": " << (r.ok() ? "" : r.error().message));
  return *r;
}

std::string durationError(const std::string& text) {
  auto r = parseDuration(text);
  REQUIRE_MESSAGE(!r.ok(), text << " parsed as " << (r.ok() ? *r : 0));
  return r.error().message;
}

std::string sizeError(const std::string& text) {
  auto r = parseSize(text);
  REQUIRE_MESSAGE(!r.ok(), text << " parsed as " << (r.ok() ? *r : 0));
  return r.error().message;
}

}  // namespace

TEST_CASE("parseDuration accepts units, compounds, fractions and bare seconds") {
  CHECK(duration("250ms") == 0.25);
  CHECK(duration("100ms") == 0.1);
  CHECK(duration("5s") == 5);
  CHECK(duration("2m") == 120);
  CHECK(duration("1h30m") == 5400);
  CHECK(duration("1d") == 86400);
  CHECK(duration("1d2h3m4s5ms") == doctest::Approx(93784.005));
  CHECK(duration("1.5s") == 1.5);
  CHECK(duration(".5m") == 30);
  CHECK(duration("0") == 0);
  CHECK(duration("0s") == 0);
  CHECK(duration("7") == 7);
  CHECK(duration("2.25") == 2.25);
  CHECK(duration("  3s ") == 3);
}

TEST_CASE("parseDuration rejects garbage with what was expected") {
  CHECK(durationError("fast") == "expected a duration like 5s or 2m, got 'fast'");
  CHECK(durationError("") == "expected a duration like 5s or 2m, got ''");
  CHECK(durationError("5x").find("unknown unit 'x'") != std::string::npos);
  CHECK(durationError("5 s").find("unknown unit ' s'") != std::string::npos);
  CHECK(durationError("1m30").find("a unit is missing") != std::string::npos);
  CHECK(durationError("s").find("got 's'") != std::string::npos);
  CHECK(durationError("1e3s").find("expected a duration") != std::string::npos);
  CHECK(durationError("5S").find("unknown unit 'S'") != std::string::npos);
  CHECK(durationError("1..5s").find("expected a duration") != std::string::npos);
}

TEST_CASE("parseDuration rejects negative and overflowing durations") {
  CHECK(durationError("-5s") == "expected a non-negative duration like 5s or 2m, got '-5s'");
  CHECK(durationError("-1").find("non-negative") != std::string::npos);
  CHECK(durationError("99999999999999999999d").find("too large (at most 36500d)") != std::string::npos);
  CHECK(durationError("36501d").find("too large") != std::string::npos);
  CHECK(durationError(std::string(400, '9') + "s").find("too large") != std::string::npos);
  CHECK(durationError(std::string(400, '9')).find("too large") != std::string::npos);
  CHECK(duration("36500d") == 36500.0 * 86400);
}

TEST_CASE("parseSize accepts SI, IEC and bare bytes") {
  CHECK(size("512") == 512);
  CHECK(size("100B") == 100);
  CHECK(size("64KiB") == 64 * 1024);
  CHECK(size("2GiB") == 2ull << 30);
  CHECK(size("1.5MB") == 1'500'000);
  CHECK(size("1.5KiB") == 1536);
  CHECK(size("1kB") == 1000);
  CHECK(size("1KB") == 1000);
  CHECK(size("3 MiB") == 3ull << 20);
  CHECK(size("1TiB") == 1ull << 40);
  CHECK(size("0") == 0);
  CHECK(size("0.5B") == 1);  // rounded to the nearest byte
  CHECK(size("15EiB") == 15ull << 60);
}

TEST_CASE("parseSize rejects garbage, negatives and overflow") {
  CHECK(sizeError("big") == "expected a size like 512, 64KiB or 2GiB, got 'big'");
  CHECK(sizeError("").find("got ''") != std::string::npos);
  CHECK(sizeError("12XB").find("unknown unit 'XB'") != std::string::npos);
  CHECK(sizeError("1G").find("unknown unit 'G'") != std::string::npos);
  CHECK(sizeError("-1").find("non-negative") != std::string::npos);
  CHECK(sizeError("-64KiB").find("non-negative") != std::string::npos);
  CHECK(sizeError("16EiB").find("too large") != std::string::npos);
  CHECK(sizeError("99999999999999999999").find("too large") != std::string::npos);
  CHECK(sizeError("18446744073709551615.9B").find("too large") != std::string::npos);
  CHECK(size("18446744073709551615") == UINT64_MAX);
}

TEST_CASE("formatDuration spells durations shortly and exactly") {
  CHECK(formatDuration(0) == "0s");
  CHECK(formatDuration(0.25) == "250ms");
  CHECK(formatDuration(1.5) == "1.5s");
  CHECK(formatDuration(5) == "5s");
  CHECK(formatDuration(90) == "90s");
  CHECK(formatDuration(150) == "2m30s");
  CHECK(formatDuration(3600) == "1h");
  CHECK(formatDuration(5400) == "1h30m");
  CHECK(formatDuration(86400) == "1d");
  CHECK(formatDuration(90061) == "1d1h1m1s");
  CHECK(formatDuration(-5) == "-5s");
}

TEST_CASE("formatDuration round-trips through parseDuration") {
  for (double v : {0.0, 0.001, 0.1, 0.25, 0.0005, 1.0, 1.5, 2.75, 59.0, 99.999, 100.0, 120.5, 3600.0, 5400.0,
                   86400.0, 90061.25, 1e6, 123456.789}) {
    std::string text = formatDuration(v);
    CAPTURE(text);
    CHECK(duration(text) == v);
  }
}

TEST_CASE("formatSize picks the largest exact unit and round-trips") {
  CHECK(formatSize(0) == "0B");
  CHECK(formatSize(512) == "512B");
  CHECK(formatSize(1536) == "1.5KiB");
  CHECK(formatSize(2ull << 30) == "2GiB");
  CHECK(formatSize(1'500'000) == "1.5MB");
  CHECK(formatSize(1000) == "1kB");
  CHECK(formatSize(1001) == "1001B");
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{999}, std::uint64_t{1024},
                          std::uint64_t{1536}, std::uint64_t{64} << 20, std::uint64_t{1'500'000},
                          std::uint64_t{123456789}, std::uint64_t{15} << 60, UINT64_MAX}) {
    std::string text = formatSize(v);
    CAPTURE(text);
    CHECK(size(text) == v);
  }
}
