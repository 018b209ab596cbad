// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "actuators/actuator.h"

// Helpers shared by the actuators in this folder; not an extension API.
namespace trimtab::actuator_support {

// A knob value for messages, URLs and argv: integral values without a
// fraction ("25"), others in the shortest exact form ("0.25").
std::string formatValue(double value);

// Replaces {knob}, {value}, {previous} and {reason} in `text`; other braces
// are left alone. In a JSON template (its first non-blank character is '{'
// or '[') the knob and the reason, which is policy text, are escaped as the
// inside of a JSON string: a quote in a reason cannot add keys to the body.
std::string substitute(std::string_view text, const ActuationRequest& request);

// An integer setting `key` within [lo, hi] (checked before narrowing to
// int); out of range or not an integer: a diagnostic, and `fallback`.
int intSetting(ConfigNode& params, const std::string& key, int fallback, int lo, int hi);

// Diagnostics recorded so far (0 for a node without a diagnostics sink).
std::size_t diagnosticCount(const ConfigNode& params);
// The first diagnostic recorded after `before` items, as an Error; success
// when none was. Factories turn their settings problems into the Error they
// return, keeping every diagnostic for `trimtab check`.
Status newDiagnostics(const ConfigNode& params, std::size_t before);

// At most `limit` bytes of `text`, control characters replaced by spaces,
// trailing whitespace trimmed, "..." appended when cut.
std::string excerpt(std::string_view text, std::size_t limit);

}  // namespace trimtab::actuator_support
