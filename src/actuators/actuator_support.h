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
// are left alone.
std::string substitute(std::string_view text, const ActuationRequest& request);

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
