// SPDX-License-Identifier: Apache-2.0
#include "common/units.h"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

namespace trimtab {
namespace {

// Nothing trimtab waits for is longer than a century; larger values are typos.
constexpr Seconds kMaxDuration = 100.0 * 365 * 86400;
constexpr const char* kDurationExpectation = "expected a duration like 5s or 2m";
constexpr const char* kSizeExpectation = "expected a size like 512, 64KiB or 2GiB";

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// A decimal number "12", "1.5" or ".5" at the start of `s`; returns its length (0: none).
std::size_t scanDecimal(std::string_view s) {
  std::size_t i = 0;
  std::size_t digits = 0;
  while (i < s.size() && isDigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && isDigit(s[i])) ++i, ++digits;
  }
  return digits == 0 ? 0 : i;
}

Error durationError(std::string_view text, std::string_view detail = {}) {
  std::string message = std::string(kDurationExpectation) + ", got '" + std::string(text) + "'";
  if (!detail.empty()) message += " (" + std::string(detail) + ")";
  return makeError(std::move(message));
}

std::optional<double> unitSeconds(std::string_view unit) {
  if (unit == "ms") return 1e-3;
  if (unit == "s") return 1.0;
  if (unit == "m") return 60.0;
  if (unit == "h") return 3600.0;
  if (unit == "d") return 86400.0;
  return std::nullopt;
}

// Shortest fixed-point decimal that reads back as exactly `v` (parseDuration takes no exponent).
std::string shortest(double v) {
  std::array<char, 400> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v, std::chars_format::fixed);
  if (ec != std::errc()) return std::to_string(v);
  return std::string(buf.data(), end);
}

struct SizeUnit {
  const char* name;
  std::uint64_t bytes;
};

// Lower-case spellings; matching is case-insensitive ("KB" == "kB").
constexpr std::array<SizeUnit, 14> kSizeUnits{{
    {"b", 1},
    {"kb", 1000ull},
    {"mb", 1000ull * 1000},
    {"gb", 1000ull * 1000 * 1000},
    {"tb", 1000ull * 1000 * 1000 * 1000},
    {"pb", 1000ull * 1000 * 1000 * 1000 * 1000},
    {"eb", 1000ull * 1000 * 1000 * 1000 * 1000 * 1000},
    {"kib", 1ull << 10},
    {"mib", 1ull << 20},
    {"gib", 1ull << 30},
    {"tib", 1ull << 40},
    {"pib", 1ull << 50},
    {"eib", 1ull << 60},
    {"", 1},
}};

std::optional<std::uint64_t> sizeUnitBytes(std::string_view unit) {
  std::string lower;
  for (char c : unit) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const auto& u : kSizeUnits) {
    if (lower == u.name) return u.bytes;
  }
  return std::nullopt;
}

}  // namespace

Result<Seconds> parseDuration(std::string_view text) {
  std::string_view s = trim(text);
  if (s.empty()) return durationError(text);
  if (s.front() == '-') {
    return makeError("expected a non-negative duration like 5s or 2m, got '" + std::string(text) + "'");
  }
  // A bare number is seconds.
  if (std::size_t n = scanDecimal(s); n == s.size()) {
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec == std::errc::result_out_of_range || (ec == std::errc() && v > kMaxDuration)) {
      return makeError("duration '" + std::string(text) + "' is too large (at most " +
                       formatDuration(kMaxDuration) + ")");
    }
    if (ec != std::errc() || ptr != s.data() + s.size()) return durationError(text);
    return v;
  }
  Seconds total = 0;
  while (!s.empty()) {
    std::size_t n = scanDecimal(s);
    if (n == 0) return durationError(text);
    double v = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + n, v);
    if (ec == std::errc::result_out_of_range) {
      return makeError("duration '" + std::string(text) + "' is too large (at most " +
                       formatDuration(kMaxDuration) + ")");
    }
    if (ec != std::errc() || ptr != s.data() + n) return durationError(text);
    s.remove_prefix(n);
    std::size_t u = 0;
    while (u < s.size() && !isDigit(s[u]) && s[u] != '.') ++u;
    std::string_view unit = s.substr(0, u);
    if (unit.empty()) return durationError(text, "a unit is missing after the last number");
    auto scale = unitSeconds(unit);
    if (!scale) {
      return durationError(text, "unknown unit '" + std::string(unit) + "'; units are ms, s, m, h, d");
    }
    s.remove_prefix(u);
    // Dividing by 1000 (not multiplying by 0.001) keeps "100ms" == 0.1 exactly.
    total += unit == "ms" ? v / 1000.0 : v * *scale;
    if (!std::isfinite(total) || total > kMaxDuration) {
      return makeError("duration '" + std::string(text) + "' is too large (at most " +
                       formatDuration(kMaxDuration) + ")");
    }
  }
  return total;
}

Result<std::uint64_t> parseSize(std::string_view text) {
  std::string_view s = trim(text);
  auto bad = [&](std::string_view detail = {}) {
    std::string message = std::string(kSizeExpectation) + ", got '" + std::string(text) + "'";
    if (!detail.empty()) message += " (" + std::string(detail) + ")";
    return makeError(std::move(message));
  };
  auto tooLarge = [&] {
    return makeError("size '" + std::string(text) + "' is too large (at most 16EiB)");
  };
  if (s.empty()) return bad();
  if (s.front() == '-') {
    return makeError("expected a non-negative size like 512, 64KiB or 2GiB, got '" + std::string(text) + "'");
  }
  std::size_t n = scanDecimal(s);
  if (n == 0) return bad();
  std::string_view number = s.substr(0, n);
  std::string_view unit = trim(s.substr(n));
  auto scale = sizeUnitBytes(unit);
  if (!scale) {
    return bad("unknown unit '" + std::string(unit) + "'; units are B, kB, MB, GB, TB, KiB, MiB, GiB, TiB");
  }
  // Exact integer arithmetic: "1.5MB" must be 1500000, not 1499999.
  std::size_t dot = number.find('.');
  std::string_view whole = number.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : number.substr(dot + 1);
  while (!frac.empty() && frac.back() == '0') frac.remove_suffix(1);
  if (frac.size() > 18) frac = frac.substr(0, 18);
  std::uint64_t w = 0;
  if (!whole.empty()) {
    auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), w);
    if (ec == std::errc::result_out_of_range) return tooLarge();
    if (ec != std::errc()) return bad();
  }
  std::uint64_t bytes = 0;
  if (__builtin_mul_overflow(w, *scale, &bytes)) return tooLarge();
  if (!frac.empty()) {
    std::uint64_t f = 0;
    std::from_chars(frac.data(), frac.data() + frac.size(), f);
    unsigned __int128 denom = 1;
    for (std::size_t i = 0; i < frac.size(); ++i) denom *= 10;
    unsigned __int128 part = (static_cast<unsigned __int128>(f) * *scale + denom / 2) / denom;
    if (part > std::numeric_limits<std::uint64_t>::max() - bytes) return tooLarge();
    bytes += static_cast<std::uint64_t>(part);
  }
  return bytes;
}

std::string formatShortest(double v) {
  if (std::isnan(v)) return "nan";  // to_chars would write "-nan" for a negative NaN
  std::array<char, 64> buf{};  // the longest shortest double, "-2.2250738585072014e-308", is 24
  return std::string(buf.data(), std::to_chars(buf.data(), buf.data() + buf.size(), v).ptr);
}

std::string formatDuration(Seconds seconds) {
  if (std::isnan(seconds)) return "nan";
  if (std::isinf(seconds)) return seconds > 0 ? "inf" : "-inf";
  if (seconds < 0) return "-" + formatDuration(-seconds);
  if (seconds == 0) return "0s";
  if (seconds < 1) {
    double ms = seconds * 1000.0;
    if (ms == std::round(ms) && std::round(ms) / 1000.0 == seconds) return shortest(ms) + "ms";
    return shortest(seconds) + "s";
  }
  // Under 100 s people say "90s"; above, "2m30s" reads better than "150s".
  if (seconds < 100) return shortest(seconds) + "s";
  std::string out;
  double whole = std::floor(seconds);
  if (whole > 1e15) return shortest(seconds) + "s";
  auto rest = static_cast<std::uint64_t>(whole);
  const std::array<std::pair<std::uint64_t, const char*>, 3> units{{{86400, "d"}, {3600, "h"}, {60, "m"}}};
  for (const auto& [size, name] : units) {
    if (rest >= size) {
      out += std::to_string(rest / size) + name;
      rest %= size;
    }
  }
  // Exact: the difference is representable, so parsing the output sums back to `seconds`.
  double remainder = seconds - static_cast<double>(static_cast<std::uint64_t>(whole) - rest);
  if (remainder > 0) out += shortest(remainder) + "s";
  return out;
}

std::string formatSize(std::uint64_t bytes) {
  // Largest unit (IEC first, then SI) in which the value needs at most 2 decimals.
  constexpr std::array<SizeUnit, 12> kOrder{{{"EiB", 1ull << 60},
                                             {"PiB", 1ull << 50},
                                             {"TiB", 1ull << 40},
                                             {"GiB", 1ull << 30},
                                             {"MiB", 1ull << 20},
                                             {"KiB", 1ull << 10},
                                             {"EB", kSizeUnits[6].bytes},
                                             {"PB", kSizeUnits[5].bytes},
                                             {"TB", kSizeUnits[4].bytes},
                                             {"GB", kSizeUnits[3].bytes},
                                             {"MB", kSizeUnits[2].bytes},
                                             {"kB", kSizeUnits[1].bytes}}};
  for (const auto& u : kOrder) {
    if (bytes < u.bytes) continue;
    unsigned __int128 scaled = static_cast<unsigned __int128>(bytes) * 100;
    if (scaled % u.bytes != 0) continue;
    auto hundredths = static_cast<std::uint64_t>(scaled / u.bytes);
    std::string out = std::to_string(hundredths / 100);
    std::uint64_t frac = hundredths % 100;
    if (frac != 0) {
      std::string digits = std::to_string(100 + frac).substr(1);
      while (digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    return out + u.name;
  }
  return std::to_string(bytes) + "B";
}

std::optional<double> parseNonFinite(std::string_view text) {
  if (text == "NaN") return std::numeric_limits<double>::quiet_NaN();
  if (text == "+Inf" || text == "Inf") return std::numeric_limits<double>::infinity();
  if (text == "-Inf") return -std::numeric_limits<double>::infinity();
  return std::nullopt;
}

std::optional<double> parseFiniteNumber(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  double v = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || ptr != text.data() + text.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

}  // namespace trimtab
