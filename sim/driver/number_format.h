// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>

namespace trimtab::sim {

// Fixed, locale-independent number formatting for every simulator output, so
// that the same scenario and seed give byte-identical files on any machine
// with IEEE doubles.

// Six significant digits ("0.0123457", "1.5e+09"); "nan", "inf", "-inf".
std::string formatNumber(double v);
// Six significant digits for JSON: null for NaN and infinities.
std::string jsonNumber(double v);
// A fixed number of decimals ("12.5"), for SVG coordinates and tables.
std::string fixedNumber(double v, int decimals);
// A JSON string literal with escapes.
std::string jsonString(std::string_view s);
// A CSV field, quoted when it holds a comma, quote or newline.
std::string csvField(std::string_view s);
// Text for HTML element content and attribute values.
std::string htmlEscape(std::string_view s);
// "3d 04:05:06", "04:05:06" under a day: virtual time for tables and logs.
std::string virtualTime(double seconds);

}  // namespace trimtab::sim
