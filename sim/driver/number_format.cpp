// SPDX-License-Identifier: Apache-2.0
#include "number_format.h"

#include <fmt/format.h>

#include <cmath>

namespace trimtab::sim {

std::string formatNumber(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // -0 and 0 must print alike: a sum that cancels can give either.
  if (v == 0) return "0";
  return fmt::format("{:.6g}", v);
}

std::string jsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  return formatNumber(v);
}

std::string fixedNumber(double v, int decimals) {
  if (!std::isfinite(v)) return "0";
  std::string s = fmt::format("{:.{}f}", v, decimals);
  // "-0.0" after rounding a tiny negative number.
  if (s.front() == '-' && s.find_first_not_of("-0.") == std::string::npos) s.erase(0, 1);
  return s;
}

std::string jsonString(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string csvField(std::string_view s) {
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string htmlEscape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string virtualTime(double seconds) {
  constexpr double kLargest = 1e15;  // beyond, a day count would not fit the cast below
  if (!std::isfinite(seconds) || seconds < 0 || seconds > kLargest) return formatNumber(seconds) + "s";
  const auto total = static_cast<long long>(std::floor(seconds));
  const long long days = total / 86400;
  const long long rest = total % 86400;
  std::string hms = fmt::format("{:02}:{:02}:{:02}", rest / 3600, (rest / 60) % 60, rest % 60);
  return days > 0 ? fmt::format("{}d {}", days, hms) : hms;
}

}  // namespace trimtab::sim
