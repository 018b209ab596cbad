// SPDX-License-Identifier: Apache-2.0
#pragma once

// Character classes and token readers of the Prometheus/OpenMetrics text
// formats, shared by the exposition parser (internal to src/sources).

#include <array>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <string_view>
#include <system_error>

#include "common/metric.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

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

// Past the metric name characters [a-zA-Z0-9_:] (kColon) or label name
// characters [a-zA-Z0-9_] at p; SSE2 classifies sixteen bytes per step.
// Metric names are long (node_exporter's average 35 bytes): this is ~13%
// faster on its scrape. Label names are short: the parser scans them with
// skip(), which measured faster there.
template <bool kColon>
inline const char* skipNameChars(const char* p, const char* end) {
#if defined(__SSE2__)
  while (end - p >= 16) {
    const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // All bounds are ASCII, so signed byte compares reject bytes >= 0x80.
    auto within = [v](char lo, char hi) {
      return _mm_and_si128(_mm_cmpgt_epi8(v, _mm_set1_epi8(static_cast<char>(lo - 1))),
                           _mm_cmplt_epi8(v, _mm_set1_epi8(static_cast<char>(hi + 1))));
    };
    const __m128i ok = _mm_or_si128(_mm_or_si128(within('a', 'z'), within('A', 'Z')),
                                    _mm_or_si128(within('0', kColon ? ':' : '9'),
                                                 _mm_cmpeq_epi8(v, _mm_set1_epi8('_'))));
    const unsigned stop = ~static_cast<unsigned>(_mm_movemask_epi8(ok)) & 0xFFFFu;
    if (stop != 0) return p + std::countr_zero(stop);
    p += 16;
  }
#endif
  return skip(p, end, kColon ? kNameChar : kLabelChar);
}
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

// A token quoted for an error message, cut to a readable length, never
// inside a UTF-8 sequence (the cut backs off over continuation bytes).
inline std::string quote(std::string_view s) {
  constexpr std::size_t kMaxQuoted = 40;
  if (s.size() <= kMaxQuoted) return "'" + std::string(s) + "'";
  std::size_t cut = kMaxQuoted;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(s.substr(0, cut)) + "...'";
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

// First '"' or '\\' in [p, end), or end. Eight bytes per step: label values
// are the bulk of an exposition's bytes.
inline const char* findQuoteOrBackslash(const char* p, const char* end) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
    while (end - p >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      const std::uint64_t q = w ^ (kOnes * '"');
      const std::uint64_t b = w ^ (kOnes * '\\');
      // A zero byte in q or b marks a match; the lowest flagged byte is exact.
      const std::uint64_t hits = ((q - kOnes) & ~q & kHighs) | ((b - kOnes) & ~b & kHighs);
      if (hits != 0) return p + (std::countr_zero(hits) >> 3);
      p += 8;
    }
  }
  while (p < end && *p != '"' && *p != '\\') ++p;
  return p;
}

// Powers of ten exact in a double.
inline constexpr double kExactPowersOf10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                              1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                              1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

inline std::uint64_t load8(const char* p) {
  std::uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

// Whether [p, end) starts with `prefix`; word compares, as names are short.
inline bool hasPrefix(const char* p, const char* end, std::string_view prefix) {
  std::size_t n = prefix.size();
  if (static_cast<std::size_t>(end - p) < n) return false;
  const char* b = prefix.data();
  for (; n >= 8; n -= 8, p += 8, b += 8) {
    if (load8(p) != load8(b)) return false;
  }
  for (; n > 0; --n) {
    if (*p++ != *b++) return false;
  }
  return true;
}

// Eight ASCII digits in a little-endian word (the SWAR tests of fast_float).
inline bool isEightDigits(std::uint64_t w) {
  return ((w & 0xF0F0F0F0F0F0F0F0ULL) | (((w + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) ==
         0x3333333333333333ULL;
}
inline std::uint64_t eightDigitsValue(std::uint64_t w) {
  constexpr std::uint64_t kMask = 0x000000FF000000FFULL;
  constexpr std::uint64_t kMul1 = 0x000F424000000064ULL;  // 100 + (1000000 << 32)
  constexpr std::uint64_t kMul2 = 0x0000271000000001ULL;  // 1 + (10000 << 32)
  w -= 0x3030303030303030ULL;
  w = (w * 10) + (w >> 8);
  return (((w & kMask) * kMul1) + (((w >> 16) & kMask) * kMul2)) >> 32;
}

// Appends the digits at p to m (wrapping past 19 digits: callers count).
inline const char* readDigits(const char* p, const char* end, std::uint64_t& m) {
  if constexpr (std::endian::native == std::endian::little) {
    while (end - p >= 8 && isEightDigits(load8(p))) {
      m = m * 100000000ULL + eightDigitsValue(load8(p));
      p += 8;
    }
  }
  while (p < end && static_cast<unsigned>(*p - '0') < 10) m = m * 10 + static_cast<unsigned>(*p++ - '0');
  return p;
}

// Fast path for the common value spelling `-?digits[.digits]` ending the
// token: with at most 19 digits, a mantissa m <= 2^53 and f <= 19 fraction
// digits, m / 10^f is one correctly rounded IEEE division (Clinger), the same
// double std::from_chars gives. Returns the end of the token, or null when
// the slow path must decide.
inline const char* parseSimpleDecimal(const char* p, const char* end, double& out) {
  constexpr long kMaxDigits = 19;  // 10^19 - 1 fits in 64 bits
  constexpr std::uint64_t kMaxExactMantissa = std::uint64_t{1} << 53;
  const char* q = p;
  const bool negative = q < end && *q == '-';
  q += negative;
  std::uint64_t m = 0;
  const char* digits = q;
  q = readDigits(q, end, m);
  long count = q - digits;
  long fraction = 0;
  if (q < end && *q == '.') {
    const char* f = ++q;
    q = readDigits(q, end, m);
    fraction = q - f;
    count += fraction;
  }
  if (count == 0 || count > kMaxDigits || m > kMaxExactMantissa) return nullptr;
  if (q < end && !is(*q, kBlank)) return nullptr;
  double v = static_cast<double>(m);
  if (fraction > 0) v /= kExactPowersOf10[fraction];
  out = negative ? -v : v;
  return q;
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
