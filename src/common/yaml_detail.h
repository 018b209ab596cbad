// SPDX-License-Identifier: Apache-2.0
// Internal to the config reader (config_node.cpp, config_load.cpp): the only
// files that see yaml-cpp. Not for extensions.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstddef>
#include <string>
#include <utility>

#include "common/config_node.h"

namespace trimtab::yaml_detail {

// Values quoted in messages are cut here so one line stays readable.
constexpr std::size_t kMaxQuotedValue = 60;

struct Location {
  int line = 0;
  int column = 0;
};

inline Location locationOf(const YAML::Node& node) {
  try {
    YAML::Mark mark = node.Mark();
    if (mark.line < 0) return {};
    return {mark.line + 1, mark.column + 1};
  } catch (const YAML::Exception&) {
    return {};
  }
}

inline YAML::NodeType::value typeOf(const YAML::Node& node) {
  try {
    return node.IsDefined() ? node.Type() : YAML::NodeType::Undefined;
  } catch (const YAML::Exception&) {
    return YAML::NodeType::Undefined;
  }
}

inline bool isPresent(const YAML::Node& node) {
  auto type = typeOf(node);
  return type != YAML::NodeType::Undefined && type != YAML::NodeType::Null;
}

inline std::string quoteValue(const std::string& value) {
  if (value.size() <= kMaxQuotedValue) return "'" + value + "'";
  return "'" + value.substr(0, kMaxQuotedValue) + "...'";
}

// "a mapping", "a list", "'fast'": what was found, for "expected X, got Y".
inline std::string describe(const YAML::Node& node) {
  switch (typeOf(node)) {
    case YAML::NodeType::Map: return "a mapping";
    case YAML::NodeType::Sequence: return "a list";
    case YAML::NodeType::Scalar: return quoteValue(node.Scalar());
    default: return "nothing";
  }
}

inline std::string joinKey(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

inline std::string indexPath(const std::string& path, std::size_t index) {
  return path + "[" + std::to_string(index) + "]";
}

inline void addDiagnostic(ConfigDiagnostics& diagnostics, const std::string& file, Location where,
                   std::string path, std::string message) {
  diagnostics.add({file, where.line, where.column, std::move(path), std::move(message)});
}

}  // namespace trimtab::yaml_detail
