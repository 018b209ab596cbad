// SPDX-License-Identifier: Apache-2.0
#include "common/config_node.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "common/units.h"
#include "common/yaml_detail.h"

namespace trimtab {

using namespace yaml_detail;

namespace {

// Consumed-key bookkeeping of one YAML node, shared by every ConfigNode that
// views it (copies, and repeated child() calls), so finish() after a factory
// read its keys sees what it consumed.
struct Tracking {
  std::vector<std::string> asked;  // every key a getter looked for: "did you mean" candidates
  std::set<std::string> consumed;
  std::set<std::string> reported;  // unknown keys already reported by finish()
  bool typeReported = false;       // "expected a mapping" already reported
};

// Per loaded document: the tracking of each node, keyed by its key path.
struct Document {
  std::map<std::string, std::shared_ptr<Tracking>> byPath;
  std::shared_ptr<Tracking> tracking(const std::string& path) {
    auto& slot = byPath[path];
    if (!slot) slot = std::make_shared<Tracking>();
    return slot;
  }
};

}  // namespace

struct ConfigNode::Impl {
  YAML::Node node;
  bool present = false;
  Location where;  // of the node, or of its key / nearest ancestor when absent
  std::shared_ptr<Document> document;
  std::shared_ptr<Tracking> tracking;

  struct Entry {
    YAML::Node key;
    YAML::Node value;
    Location location() const {
      Location at = locationOf(value);
      return at.line > 0 && isPresent(value) ? at : locationOf(key);
    }
  };

  bool isMap() const { return present && typeOf(node) == YAML::NodeType::Map; }

  std::optional<Entry> find(const std::string& key) const {
    if (!isMap()) return std::nullopt;
    try {
      for (auto it = node.begin(); it != node.end(); ++it) {
        if (typeOf(it->first) == YAML::NodeType::Scalar && it->first.Scalar() == key) {
          return Entry{it->first, it->second};
        }
      }
    } catch (const YAML::Exception&) {
    }
    return std::nullopt;
  }

  void noteAsked(const std::string& key) {
    if (std::find(tracking->asked.begin(), tracking->asked.end(), key) == tracking->asked.end()) {
      tracking->asked.push_back(key);
    }
  }

  // True for a present mapping; a present non-mapping is reported once.
  bool checkMap(ConfigNode& self) {
    if (!present) return false;
    if (isMap()) return true;
    if (!tracking->typeReported) {
      tracking->typeReported = true;
      addDiagnostic(*self.diagnostics_, self.file_, where, self.path_,
                    "expected a mapping (key: value), got " + describe(node));
    }
    return false;
  }

  // Marks `key` asked and, when present, consumed. nullopt when the key is
  // absent or its value is null (an empty value means "use the default").
  std::optional<Entry> take(ConfigNode& self, const std::string& key) {
    noteAsked(key);
    if (!checkMap(self)) return std::nullopt;
    auto entry = find(key);
    if (!entry) return std::nullopt;
    tracking->consumed.insert(key);
    if (!isPresent(entry->value)) return std::nullopt;
    return entry;
  }

  // The scalar text of `key`, or nullopt (absent, or reported as the wrong type).
  std::optional<std::string> scalar(ConfigNode& self, const std::string& key, const std::string& expected,
                                    std::optional<Entry>* out = nullptr) {
    auto entry = take(self, key);
    if (!entry) return std::nullopt;
    if (out) *out = entry;
    if (typeOf(entry->value) != YAML::NodeType::Scalar) {
      report(self, key, *entry, "expected " + expected + ", got " + describe(entry->value));
      return std::nullopt;
    }
    return entry->value.Scalar();
  }

  void report(ConfigNode& self, const std::string& key, const Entry& entry, std::string message) {
    addDiagnostic(*self.diagnostics_, self.file_, entry.location(), joinKey(self.path_, key), std::move(message));
  }

  ConfigNode childOf(ConfigNode& self, const YAML::Node& value, std::string path, Location fallback) {
    ConfigNode child;
    child.file_ = self.file_;
    child.path_ = std::move(path);
    child.diagnostics_ = self.diagnostics_;
    child.impl_->node.reset(value);
    child.impl_->present = isPresent(value);
    Location at = locationOf(value);
    child.impl_->where = at.line > 0 && child.impl_->present ? at : fallback;
    child.impl_->document = document;
    child.impl_->tracking = document->tracking(child.path_);
    return child;
  }
};

ConfigNode::ConfigNode()
    : impl_(std::make_unique<Impl>()), diagnostics_(std::make_shared<ConfigDiagnostics>()) {
  impl_->document = std::make_shared<Document>();
  impl_->tracking = impl_->document->tracking("");
}

ConfigNode::ConfigNode(const YAML::Node& node, std::string file, std::string path,
                       std::shared_ptr<ConfigDiagnostics> diagnostics)
    : impl_(std::make_unique<Impl>()),
      file_(std::move(file)),
      path_(std::move(path)),
      diagnostics_(diagnostics ? std::move(diagnostics) : std::make_shared<ConfigDiagnostics>()) {
  impl_->node.reset(node);
  impl_->present = isPresent(node);
  impl_->where = locationOf(node);
  impl_->document = std::make_shared<Document>();
  impl_->tracking = impl_->document->tracking(path_);
}

ConfigNode::~ConfigNode() = default;

ConfigNode::ConfigNode(const ConfigNode& other)
    : impl_(std::make_unique<Impl>(*other.impl_)),
      file_(other.file_),
      path_(other.path_),
      diagnostics_(other.diagnostics_) {}

ConfigNode& ConfigNode::operator=(const ConfigNode& other) {
  if (this != &other) {
    // Impl's copy constructor rebinds the YAML::Node; its assignment would
    // overwrite the viewed node's content instead.
    impl_ = std::make_unique<Impl>(*other.impl_);
    file_ = other.file_;
    path_ = other.path_;
    diagnostics_ = other.diagnostics_;
  }
  return *this;
}

bool ConfigNode::missing() const { return !impl_->present; }
bool ConfigNode::isMap() const { return impl_->isMap(); }
bool ConfigNode::isSequence() const { return impl_->present && typeOf(impl_->node) == YAML::NodeType::Sequence; }
bool ConfigNode::isScalar() const { return impl_->present && typeOf(impl_->node) == YAML::NodeType::Scalar; }

bool ConfigNode::has(const std::string& key) const {
  impl_->noteAsked(key);
  auto entry = impl_->find(key);
  return entry && isPresent(entry->value);
}

int ConfigNode::line() const { return impl_->where.line; }
int ConfigNode::column() const { return impl_->where.column; }

std::string ConfigNode::getString(const std::string& key, const std::string& fallback) {
  return impl_->scalar(*this, key, "a string").value_or(fallback);
}

std::optional<std::string> ConfigNode::requiredString(const std::string& key) {
  std::optional<Impl::Entry> entry;
  auto value = impl_->scalar(*this, key, "a string", &entry);
  if (!entry) {
    // A node of the wrong shape was reported as such; "missing key" would be noise.
    if (!impl_->present || impl_->isMap()) {
      addDiagnostic(*diagnostics_, file_, impl_->where, joinKey(path_, key), "missing required key " + quoteValue(key));
    }
    return std::nullopt;
  }
  if (value && value->empty()) {
    impl_->report(*this, key, *entry, "expected a non-empty string, got ''");
    return std::nullopt;
  }
  return value;
}

std::optional<double> ConfigNode::optionalNumber(const std::string& key) {
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, "a number", &entry);
  if (!text) return std::nullopt;
  auto v = parseFiniteNumber(*text);
  if (!v) impl_->report(*this, key, *entry, "expected a number, got " + quoteValue(*text));
  return v;
}

double ConfigNode::getNumber(const std::string& key, double fallback) {
  return optionalNumber(key).value_or(fallback);
}

std::int64_t ConfigNode::getInteger(const std::string& key, std::int64_t fallback) {
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, "an integer", &entry);
  if (!text) return fallback;
  std::string_view s = *text;
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range) {
    impl_->report(*this, key, *entry, "expected an integer, got " + quoteValue(*text) + " (out of range)");
    return fallback;
  }
  if (ec != std::errc() || ptr != s.data() + s.size()) {
    impl_->report(*this, key, *entry, "expected an integer, got " + quoteValue(*text));
    return fallback;
  }
  return v;
}

bool ConfigNode::getBool(const std::string& key, bool fallback) {
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, "true or false", &entry);
  if (!text) return fallback;
  if (*text == "true" || *text == "True" || *text == "TRUE") return true;
  if (*text == "false" || *text == "False" || *text == "FALSE") return false;
  impl_->report(*this, key, *entry, "expected true or false, got " + quoteValue(*text));
  return fallback;
}

Seconds ConfigNode::getDuration(const std::string& key, Seconds fallback) {
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, "a duration like 5s or 2m", &entry);
  if (!text) return fallback;
  auto v = parseDuration(*text);
  if (!v) {
    impl_->report(*this, key, *entry, v.error().message);
    return fallback;
  }
  return *v;
}

std::uint64_t ConfigNode::getSize(const std::string& key, std::uint64_t fallback) {
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, "a size like 512, 64KiB or 2GiB", &entry);
  if (!text) return fallback;
  auto v = parseSize(*text);
  if (!v) {
    impl_->report(*this, key, *entry, v.error().message);
    return fallback;
  }
  return *v;
}

std::vector<std::string> ConfigNode::getStringList(const std::string& key) {
  std::vector<std::string> out;
  auto entry = impl_->take(*this, key);
  if (!entry) return out;
  if (typeOf(entry->value) != YAML::NodeType::Sequence) {
    impl_->report(*this, key, *entry, "expected a list of strings, got " + describe(entry->value));
    return out;
  }
  std::size_t i = 0;
  for (auto it = entry->value.begin(); it != entry->value.end(); ++it, ++i) {
    if (typeOf(*it) != YAML::NodeType::Scalar) {
      Location at = locationOf(*it);
      addDiagnostic(*diagnostics_, file_, at.line > 0 ? at : entry->location(), indexPath(joinKey(path_, key), i),
                    "expected a string, got " + describe(*it));
      continue;
    }
    out.push_back(it->Scalar());
  }
  return out;
}

std::string ConfigNode::getEnum(const std::string& key, const std::vector<std::string>& allowed,
                                const std::string& fallback) {
  std::string expected = "one of ";
  for (std::size_t i = 0; i < allowed.size(); ++i) expected += (i ? ", " : "") + allowed[i];
  std::optional<Impl::Entry> entry;
  auto text = impl_->scalar(*this, key, expected, &entry);
  if (!text) return fallback;
  if (std::find(allowed.begin(), allowed.end(), *text) != allowed.end()) return *text;
  std::string message = "expected " + expected + ", got " + quoteValue(*text);
  if (auto guess = closestMatch(*text, allowed); !guess.empty()) message += " (did you mean '" + guess + "'?)";
  impl_->report(*this, key, *entry, std::move(message));
  return fallback;
}

std::map<std::string, std::string> ConfigNode::getStringMap(const std::string& key) {
  std::map<std::string, std::string> out;
  for (auto& [name, child] : childMap(key)) {
    if (!child.isScalar()) {
      addDiagnostic(*diagnostics_, file_, child.impl_->where, child.path_,
                    "expected a string, got " + describe(child.impl_->node));
      continue;
    }
    out[name] = child.asString();
  }
  return out;
}

ConfigNode ConfigNode::child(const std::string& key) {
  impl_->noteAsked(key);
  Location fallback = impl_->where;
  YAML::Node value;
  if (impl_->checkMap(*this)) {
    if (auto entry = impl_->find(key)) {
      impl_->tracking->consumed.insert(key);
      fallback = entry->location();
      value.reset(entry->value);
    }
  }
  return impl_->childOf(*this, value, joinKey(path_, key), fallback);
}

std::vector<ConfigNode> ConfigNode::childList(const std::string& key) {
  std::vector<ConfigNode> out;
  auto entry = impl_->take(*this, key);
  if (!entry) return out;
  if (typeOf(entry->value) != YAML::NodeType::Sequence) {
    impl_->report(*this, key, *entry, "expected a list, got " + describe(entry->value));
    return out;
  }
  const std::string base = joinKey(path_, key);
  std::size_t i = 0;
  for (auto it = entry->value.begin(); it != entry->value.end(); ++it, ++i) {
    out.push_back(impl_->childOf(*this, *it, indexPath(base, i), entry->location()));
  }
  return out;
}

std::vector<std::pair<std::string, ConfigNode>> ConfigNode::childMap(const std::string& key) {
  std::vector<std::pair<std::string, ConfigNode>> out;
  auto entry = impl_->take(*this, key);
  if (!entry) return out;
  if (typeOf(entry->value) != YAML::NodeType::Map) {
    impl_->report(*this, key, *entry, "expected a mapping (key: value), got " + describe(entry->value));
    return out;
  }
  const std::string base = joinKey(path_, key);
  auto tracking = impl_->document->tracking(base);
  for (auto it = entry->value.begin(); it != entry->value.end(); ++it) {
    if (typeOf(it->first) != YAML::NodeType::Scalar) continue;  // reported at load
    std::string name = it->first.Scalar();
    tracking->consumed.insert(name);
    out.emplace_back(name, impl_->childOf(*this, it->second, joinKey(base, name), locationOf(it->first)));
  }
  return out;
}

std::string ConfigNode::asString() const { return isScalar() ? impl_->node.Scalar() : std::string(); }

std::vector<std::string> ConfigNode::keys() const {
  std::vector<std::string> out;
  if (!impl_->isMap()) return out;
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    if (typeOf(it->first) == YAML::NodeType::Scalar) out.push_back(it->first.Scalar());
  }
  return out;
}

void ConfigNode::error(const std::string& key, const std::string& message) {
  if (key.empty()) {
    addDiagnostic(*diagnostics_, file_, impl_->where, path_, message);
    return;
  }
  auto entry = impl_->find(key);
  addDiagnostic(*diagnostics_, file_, entry ? entry->location() : impl_->where, joinKey(path_, key), message);
}

void ConfigNode::finish() {
  if (!impl_->checkMap(*this)) return;
  auto& tracking = *impl_->tracking;
  for (auto it = impl_->node.begin(); it != impl_->node.end(); ++it) {
    if (typeOf(it->first) != YAML::NodeType::Scalar) continue;  // reported at load
    std::string name = it->first.Scalar();
    if (tracking.consumed.count(name) || !tracking.reported.insert(name).second) continue;
    std::string message = "unknown key " + quoteValue(name);
    if (auto guess = closestMatch(name, tracking.asked); !guess.empty()) {
      message += " (did you mean '" + guess + "'?)";
    }
    addDiagnostic(*diagnostics_, file_, locationOf(it->first), joinKey(path_, name), std::move(message));
  }
}

}  // namespace trimtab
