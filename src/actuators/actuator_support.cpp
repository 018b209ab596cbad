// SPDX-License-Identifier: Apache-2.0
#include "actuators/actuator_support.h"

#include <cmath>
#include <cstdint>
#include <limits>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace trimtab::actuator_support {

std::string formatValue(double value) {
  // 2^53: beyond it doubles are integral anyway, and int64 would overflow later.
  constexpr double kExactIntegerLimit = 9007199254740992.0;
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < kExactIntegerLimit)
    return fmt::format("{}", static_cast<long long>(value));
  return fmt::format("{}", value);
}

namespace {

// The inside of a JSON string holding `text` (invalid UTF-8 replaced).
std::string jsonInside(const std::string& text) {
  std::string quoted = nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return quoted.substr(1, quoted.size() - 2);
}

}  // namespace

std::string substitute(std::string_view text, const ActuationRequest& request) {
  const auto first = text.find_first_not_of(" \t\r\n");
  const bool json = first != std::string_view::npos && (text[first] == '{' || text[first] == '[');
  std::string out;
  out.reserve(text.size() + 32);
  std::size_t i = 0;
  while (i < text.size()) {
    if (text[i] == '{') {
      auto close = text.find('}', i);
      if (close != std::string_view::npos) {
        std::string_view name = text.substr(i + 1, close - i - 1);
        if (name == "knob") {
          out += json ? jsonInside(request.knob) : request.knob;
        } else if (name == "value") {
          out += formatValue(request.value);
        } else if (name == "previous") {
          out += formatValue(request.previous);
        } else if (name == "reason") {
          out += json ? jsonInside(request.reason) : request.reason;
        } else {
          out += text[i++];
          continue;
        }
        i = close + 1;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

int intSetting(ConfigNode& params, const std::string& key, int fallback, int lo, int hi) {
  const std::int64_t v = params.getInteger(key, fallback);
  if (v >= lo && v <= hi) return static_cast<int>(v);
  params.error(key, hi == std::numeric_limits<int>::max()
                        ? fmt::format("expected an integer of at least {} (at most {})", lo, hi)
                        : fmt::format("expected an integer from {} to {}", lo, hi));
  return fallback;
}

std::size_t diagnosticCount(const ConfigNode& params) {
  auto sink = params.diagnosticsPtr();
  return sink ? sink->items().size() : 0;
}

Status newDiagnostics(const ConfigNode& params, std::size_t before) {
  auto sink = params.diagnosticsPtr();
  if (!sink) return Status::success();
  const auto& items = sink->items();
  if (items.size() <= before) return Status::success();
  return makeError(items[before].format());
}

std::string excerpt(std::string_view text, std::size_t limit) {
  std::string out(text.substr(0, limit));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace trimtab::actuator_support
