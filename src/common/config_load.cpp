// SPDX-License-Identifier: Apache-2.0
// Loading a YAML document into a ConfigNode: file reading, syntax errors and
// document-wide checks (duplicate keys).
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <system_error>

#include "common/config_node.h"
#include "common/yaml_detail.h"

namespace trimtab {

using namespace yaml_detail;

namespace {

// Configs are shallow; deeper nesting or alias fan-out past these is an
// attack or an accident, and the duplicate-key walk stops there.
constexpr int kMaxWalkDepth = 64;
constexpr std::size_t kMaxWalkNodes = 100'000;
// A config is a few KiB; anything this big is the wrong file.
constexpr std::uintmax_t kMaxConfigBytes = 16u << 20;

// Reports duplicate and non-string keys anywhere in the document; yaml-cpp
// itself keeps the first of two equal keys silently.
struct DuplicateWalk {
  const std::string& file;
  ConfigDiagnostics& diagnostics;
  std::size_t visited = 0;
  bool exhausted = false;

  void walk(const YAML::Node& node, const std::string& path, int depth) {
    if (exhausted) return;
    if (depth > kMaxWalkDepth) {
      exhausted = true;
      addDiagnostic(diagnostics, file, locationOf(node), path,
                    "document nests deeper than " + std::to_string(kMaxWalkDepth) + " levels");
      return;
    }
    if (++visited > kMaxWalkNodes) {
      exhausted = true;
      addDiagnostic(diagnostics, file, locationOf(node), path,
                    "document has more than " + std::to_string(kMaxWalkNodes) +
                        " nodes (counting what aliases expand to)");
      return;
    }
    auto type = typeOf(node);
    if (type == YAML::NodeType::Sequence) {
      std::size_t i = 0;
      for (auto it = node.begin(); it != node.end(); ++it, ++i) walk(*it, indexPath(path, i), depth + 1);
    } else if (type == YAML::NodeType::Map) {
      std::map<std::string, int> seen;
      for (auto it = node.begin(); it != node.end(); ++it) {
        YAML::Node key = it->first;  // a copy: it-> yields a temporary proxy
        if (typeOf(key) != YAML::NodeType::Scalar) {
          addDiagnostic(diagnostics, file, locationOf(key), path,
                        "expected a plain string as key, got " + describe(key));
          continue;
        }
        std::string name = key.Scalar();
        auto [pos, inserted] = seen.emplace(name, locationOf(key).line);
        if (!inserted) {
          addDiagnostic(diagnostics, file, locationOf(key), joinKey(path, name),
                        "duplicate key " + quoteValue(name) + " (first at line " + std::to_string(pos->second) + ")");
        }
        walk(it->second, joinKey(path, name), depth + 1);
      }
    }
  }
};

}  // namespace

ConfigNode ConfigNode::loadString(const std::string& text, const std::string& file,
                                  std::shared_ptr<ConfigDiagnostics> diagnostics) {
  if (!diagnostics) diagnostics = std::make_shared<ConfigDiagnostics>();
  try {
    YAML::Node root = YAML::Load(text);
    DuplicateWalk{file, *diagnostics}.walk(root, "", 0);
    return ConfigNode(root, file, "", diagnostics);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's parser stops at its own nesting limit with the message
    // "bad file", which sends the user looking for an unreadable file.
    Location where;
    if (e.mark.line >= 0) where = {e.mark.line + 1, e.mark.column + 1};
    addDiagnostic(*diagnostics, file, where, "",
                  "invalid YAML: nested deeper than the parser's limit of " + std::to_string(e.depth()) + " levels");
  } catch (const YAML::Exception& e) {
    Location where;
    if (e.mark.line >= 0) where = {e.mark.line + 1, e.mark.column + 1};
    addDiagnostic(*diagnostics, file, where, "", "invalid YAML: " + e.msg);
  } catch (const std::exception& e) {
    addDiagnostic(*diagnostics, file, {}, "", std::string("invalid YAML: ") + e.what());
  }
  return ConfigNode(YAML::Node(), file, "", diagnostics);
}

ConfigNode ConfigNode::loadFile(const std::string& file, std::shared_ptr<ConfigDiagnostics> diagnostics) {
  if (!diagnostics) diagnostics = std::make_shared<ConfigDiagnostics>();
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec)) {
    addDiagnostic(*diagnostics, file, {}, "", "cannot read config file: it is a directory");
    return ConfigNode(YAML::Node(), file, "", diagnostics);
  }
  if (auto size = std::filesystem::file_size(file, ec); !ec && size > kMaxConfigBytes) {
    addDiagnostic(*diagnostics, file, {}, "",
                  "cannot read config file: larger than " + std::to_string(kMaxConfigBytes >> 20) + " MiB");
    return ConfigNode(YAML::Node(), file, "", diagnostics);
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    int err = errno;
    addDiagnostic(*diagnostics, file, {}, "", std::string("cannot read config file: ") + std::strerror(err));
    return ConfigNode(YAML::Node(), file, "", diagnostics);
  }
  std::ostringstream text;
  text << in.rdbuf();
  return loadString(text.str(), file, std::move(diagnostics));
}

}  // namespace trimtab
