// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace YAML {
class Node;
}

namespace trimtab {

// One problem found in a configuration, located precisely enough to fix it.
struct ConfigDiagnostic {
  std::string file;
  int line = 0;    // 1-based; 0 when unknown
  int column = 0;  // 1-based; 0 when unknown
  std::string path;     // key path, e.g. "knobs[2].max_step"
  std::string message;  // what was expected, e.g. "expected a duration like 5s or 2m, got 'fast'"

  // "trimtab.yaml:12:5: knobs[2].max_step: expected ..."
  std::string format() const;
};

// Collects every problem so `trimtab check` reports them all at once.
class ConfigDiagnostics {
 public:
  void add(ConfigDiagnostic d) { items_.push_back(std::move(d)); }
  bool empty() const { return items_.empty(); }
  const std::vector<ConfigDiagnostic>& items() const { return items_; }
  // All diagnostics, one per line.
  std::string format() const;

 private:
  std::vector<ConfigDiagnostic> items_;
};

// A read-only view of one YAML mapping (or scalar/sequence) with its key path,
// used by the config loader and by every extension's factory to read its own
// settings. Parsing stays in one place; extensions never see yaml-cpp.
//
// Every getter records a diagnostic (with file, line, column, key path and what
// was expected) on a type error and returns the default, so a whole file is
// checked in one pass. Getters mark the key as consumed; finish() then reports
// every key that nobody read as unknown, with a "did you mean" suggestion.
//
// Thread safety: none; used only while loading a configuration.
class ConfigNode {
 public:
  // An empty (missing) node.
  ConfigNode();
  ConfigNode(const YAML::Node& node, std::string file, std::string path,
             std::shared_ptr<ConfigDiagnostics> diagnostics);
  ~ConfigNode();
  ConfigNode(const ConfigNode&);
  ConfigNode& operator=(const ConfigNode&);

  // Loads a YAML file. A syntax error becomes a diagnostic with its line and
  // column; the returned node is then missing().
  static ConfigNode loadFile(const std::string& file, std::shared_ptr<ConfigDiagnostics> diagnostics);
  // Same, from text (tests; `file` is the name used in messages).
  static ConfigNode loadString(const std::string& text, const std::string& file,
                               std::shared_ptr<ConfigDiagnostics> diagnostics);

  bool missing() const;
  bool isMap() const;
  bool isSequence() const;
  bool isScalar() const;
  bool has(const std::string& key) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  int line() const;    // 1-based, 0 when missing
  int column() const;  // 1-based, 0 when missing

  // Typed getters for keys of a mapping. The `required*` forms record
  // "missing required key" when absent.
  std::string getString(const std::string& key, const std::string& fallback = "");
  std::optional<std::string> requiredString(const std::string& key);
  double getNumber(const std::string& key, double fallback);
  std::optional<double> optionalNumber(const std::string& key);
  std::int64_t getInteger(const std::string& key, std::int64_t fallback);
  bool getBool(const std::string& key, bool fallback);
  Seconds getDuration(const std::string& key, Seconds fallback);    // "5s", "2m"
  std::uint64_t getSize(const std::string& key, std::uint64_t fallback);  // "2GiB"
  std::vector<std::string> getStringList(const std::string& key);
  // One of `allowed`; otherwise a diagnostic listing them.
  std::string getEnum(const std::string& key, const std::vector<std::string>& allowed,
                      const std::string& fallback);
  // string -> string map (e.g. HTTP headers, labels).
  std::map<std::string, std::string> getStringMap(const std::string& key);

  // Child nodes. child() of an absent key is missing().
  ConfigNode child(const std::string& key);
  // Elements of a sequence under `key` (paths "key[0]", "key[1]", ...).
  std::vector<ConfigNode> childList(const std::string& key);
  // Entries of a mapping under `key`, in file order (paths "key.name").
  std::vector<std::pair<std::string, ConfigNode>> childMap(const std::string& key);

  // This node as a scalar (for list elements).
  std::string asString() const;
  // Keys of this mapping, in file order.
  std::vector<std::string> keys() const;

  // Records a diagnostic located at `key` (or at this node when key is empty).
  void error(const std::string& key, const std::string& message);

  // Reports every key of this mapping that no getter/child call consumed:
  // "unknown key 'intervall' (did you mean 'interval'?)".
  void finish();

  ConfigDiagnostics& diagnostics() { return *diagnostics_; }
  std::shared_ptr<ConfigDiagnostics> diagnosticsPtr() const { return diagnostics_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string file_;
  std::string path_;
  std::shared_ptr<ConfigDiagnostics> diagnostics_;
};

// Closest candidate by edit distance, or "" when none is close enough
// (distance <= max(2, len/3)) or the word is longer than
// kMaxClosestMatchBytes. Used for "did you mean" everywhere.
inline constexpr std::size_t kMaxClosestMatchBytes = 1024;
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

}  // namespace trimtab
