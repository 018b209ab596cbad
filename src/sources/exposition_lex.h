// SPDX-License-Identifier: Apache-2.0
#pragma once

// Character classes and token readers of the Prometheus/OpenMetrics text
// formats, shared by the exposition parser (internal to src/sources).

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "common/metric.h"

namespace trimtab::lex {

enum CharClass : std::uint8_t {
  kNameStart = 1,   // [a-zA-Z_:]
  kNameChar = 2,    // [a-zA-Z0-9_:]
  kLabelStart = 4,  // [a-zA-Z_]
  kLabelChar = 8,   // [a-zA-Z0-9_]
  kBlank = 16,      // ' ' '\t'
};

inline constexpr std::array<std::uint8_t, 256> kClasses = [] {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    std::uint8_t k = 0;
    if (alpha || c == ':') k |= kNameStart | kNameChar;
    if (digit) k |= kNameChar | kLabelChar;
    if (alpha) k |= kLabelStart | kLabelChar;
    if (c == ' ' || c == '\t') k |= kBlank;
    t[static_cast<std::size_t>(c)] = k;
  }
  return t;
}();

inline bool is(char c, CharClass k) { return kClasses[static_cast<unsigned char>(c)] & k; }

inline const char* skip(const char* p, const char* end, CharClass k) {
  while (p < end && is(*p, k)) ++p;
  return p;
}
inline const char* skipBlanks(const char* p, const char* end) { return skip(p, end, kBlank); }
// Up to the next blank or the end.
inline const char* scanToken(const char* p, const char* end) {
  while (p < end && !is(*p, kBlank)) ++p;
  return p;
}

// 'x' for printable characters, \xNN otherwise: error messages stay one line.
inline std::string describeChar(char c) {
  auto u = static_cast<unsigned char>(c);
  if (u >= 0x20 && u < 0x7f) return std::string("'") + c + "'";
  static constexpr char kHex[] = "0123456789abcdef";
  return std::string("byte \\x") + kHex[u >> 4] + kHex[u & 15];
}

// A token quoted for an error message, cut to a readable length.
inline std::string quote(std::string_view s) {
  constexpr std::size_t kMaxQuoted = 40;
  if (s.size() > kMaxQuoted) return "'" + std::string(s.substr(0, kMaxQuoted)) + "...'";
  return "'" + std::string(s) + "'";
}

inline bool equalsLower(std::string_view s, std::string_view lower) {
  if (s.size() != lower.size()) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != lower[i]) return false;
  }
  return true;
}

enum class NumberError { None, Syntax, Range };

// A sample value: a decimal float (std::from_chars, locale-free), or NaN,
// [+-]Inf, [+-]Infinity (any case), as Go's ParseFloat reads them. A leading
// '+' is allowed, which from_chars does not accept by itself.
inline NumberError parseValue(const char* b, const char* e, double& out) {
  const char* s = b;
  bool plus = false;
  if (s < e && *s == '+') {
    plus = true;
    ++s;
  }
  const char* t = s;
  bool negative = false;
  if (t < e && *t == '-') {
    if (plus) return NumberError::Syntax;
    negative = true;
    ++t;
  }
  if (t == e) return NumberError::Syntax;
  if (!(*t >= '0' && *t <= '9') && *t != '.') {
    std::string_view word(t, static_cast<std::size_t>(e - t));
    if (t == b && equalsLower(word, "nan")) {
      out = std::numeric_limits<double>::quiet_NaN();
      return NumberError::None;
    }
    if (equalsLower(word, "inf") || equalsLower(word, "infinity")) {
      out = negative ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity();
      return NumberError::None;
    }
    return NumberError::Syntax;
  }
  auto r = std::from_chars(s, e, out);
  if (r.ec == std::errc::result_out_of_range && r.ptr == e) return NumberError::Range;
  if (r.ec != std::errc() || r.ptr != e) return NumberError::Syntax;
  return NumberError::None;
}

// Prometheus 0.0.4 timestamp: integer milliseconds (may be negative).
inline NumberError parseMillis(const char* b, const char* e, double& seconds) {
  std::int64_t ms = 0;
  auto r = std::from_chars(b, e, ms);
  if (r.ec == std::errc::result_out_of_range) return NumberError::Range;
  if (r.ec != std::errc() || r.ptr != e) return NumberError::Syntax;
  seconds = static_cast<double>(ms) / 1000.0;
  return NumberError::None;
}

// OpenMetrics timestamp: float seconds, finite.
inline NumberError parseSeconds(const char* b, const char* e, double& seconds) {
  NumberError err = parseValue(b, e, seconds);
  if (err == NumberError::None && !std::isfinite(seconds)) return NumberError::Range;
  return err;
}

// Whether `suffix` (after the family name, e.g. "_bucket") names a series of
// a family of type `type`.
inline bool suffixFits(MetricType type, std::string_view suffix) {
  switch (type) {
    case MetricType::Counter: return suffix == "_total" || suffix == "_created";
    case MetricType::Histogram:
      return suffix == "_bucket" || suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::GaugeHistogram:
      return suffix == "_bucket" || suffix == "_gsum" || suffix == "_gcount" || suffix == "_sum" ||
             suffix == "_count" || suffix == "_created";
    case MetricType::Summary: return suffix == "_sum" || suffix == "_count" || suffix == "_created";
    case MetricType::Info: return suffix == "_info";
    default: return false;
  }
}

}  // namespace trimtab::lex
