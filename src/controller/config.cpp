// SPDX-License-Identifier: Apache-2.0
#include "controller/config.h"

#include <algorithm>
#include <charconv>
#include <climits>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>

#include "actuators/actuator.h"
#include "common/units.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

constexpr Seconds kMaxTick = 3600;
constexpr Seconds kNoLimit = 1e300;
constexpr Seconds kDefaultSourceInterval = 10;
constexpr Seconds kDefaultSourceTimeout = 5;
constexpr const char* kDefaultJournalPath = "trimtab-journal.jsonl";
// Lua's base libraries alone take tens of KiB; smaller caps fail every tick.
constexpr std::uint64_t kMinPolicyMemoryCap = 256u << 10;
constexpr std::uint64_t kMinJournalRotateSize = 4u << 10;
constexpr std::int64_t kMaxJournalKeep = 1000;

// The text the user wrote for `key`, for "got '...'" in range errors.
std::string raw(ConfigNode& node, const std::string& key) { return "'" + node.child(key).asString() + "'"; }

std::int64_t integerIn(ConfigNode& node, const std::string& key, std::int64_t fallback, std::int64_t min,
                       std::int64_t max) {
  std::int64_t v = node.getInteger(key, fallback);
  if (v >= min && v <= max) return v;
  std::string expected = max == INT_MAX || max == INT64_MAX
                             ? "an integer >= " + std::to_string(min)
                             : "an integer between " + std::to_string(min) + " and " + std::to_string(max);
  node.error(key, "expected " + expected + ", got " + std::to_string(v));
  return fallback;
}

// A size of at least `min`; below it the error names the value and `fallback` stays.
std::uint64_t sizeAtLeast(ConfigNode& node, const std::string& key, std::uint64_t fallback, std::uint64_t min) {
  std::uint64_t v = node.getSize(key, fallback);
  if (v >= min) return v;
  node.error(key, "expected a size >= " + formatSize(min) + ", got " + raw(node, key));
  return fallback;
}

double numberAtLeastZero(ConfigNode& node, const std::string& key) {
  double v = node.getNumber(key, 0);
  if (v >= 0) return v;
  node.error(key, "expected a number >= 0, got " + formatShortest(v));
  return 0;
}

// nullopt when absent, or invalid (then already reported).
std::optional<Seconds> positiveDuration(ConfigNode& node, const std::string& key, Seconds max) {
  constexpr Seconds kAbsent = -1;  // getDuration never returns a negative duration
  Seconds v = node.getDuration(key, kAbsent);
  if (v == kAbsent) return std::nullopt;
  if (v > 0 && v <= max) return v;
  std::string limit = max < kNoLimit ? " and at most " + formatDuration(max) : "";
  node.error(key, "expected a duration > 0" + limit + ", got " + raw(node, key));
  return std::nullopt;
}

// List elements must be mappings; reports the element otherwise.
bool requireMap(ConfigNode& element) {
  if (element.isMap()) return true;
  if (element.missing()) {
    element.error("", "expected a mapping (key: value), got nothing");
  } else {
    element.finish();  // reports "expected a mapping"
  }
  return false;
}

bool isSourceName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool isIdentifier(const std::string& s) {
  if (s.empty() || (s[0] >= '0' && s[0] <= '9')) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// "127.0.0.1:9464", "localhost:80", "[::1]:9464", ":9464" is not enough.
bool isListenAddress(const std::string& s) {
  auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == s.size()) return false;
  std::string host = s.substr(0, colon);
  std::string port = s.substr(colon + 1);
  if (host.front() == '[') {
    if (host.back() != ']' || host.size() < 3) return false;
  } else if (host.find(':') != std::string::npos || host.find_first_of(" /[]") != std::string::npos) {
    return false;
  }
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  return ec == std::errc() && ptr == port.data() + port.size() && value <= 65535;
}

// Remembers names to report duplicates with where the first one was.
class UniqueNames {
 public:
  explicit UniqueNames(std::string what) : what_(std::move(what)) {}
  void check(ConfigNode& element, const std::string& name) {
    auto [it, inserted] = lines_.emplace(name, element.line());
    if (!inserted) {
      element.error("name", "duplicate " + what_ + " name '" + name + "' (first defined at line " +
                                std::to_string(it->second) + ")");
    }
  }

 private:
  std::string what_;
  std::map<std::string, int> lines_;
};

class Loader {
 public:
  Loader(Config& config, fs::path dir) : config_(config), dir_(std::move(dir)) {}

  void load(ConfigNode root) {
    if (auto service = root.requiredString("service")) config_.service = *service;
    config_.dryRun = root.getEnum("mode", {"enforce", "dry-run"}, "enforce") == "dry-run";
    config_.tick = positiveDuration(root, "tick", kMaxTick).value_or(config_.tick);
    config_.watchPolicies = root.getBool("watch_policies", config_.watchPolicies);
    loadStore(root.child("store"));
    readPolicyLimits(root.child("policy_limits"), config_.policyLimits);
    loadSources(root);
    loadKnobs(root);
    loadPolicies(root);
    loadJournal(root.child("journal"));
    loadServer(root.child("server"));
    loadLog(root.child("log"));
    root.finish();
  }

 private:
  std::string resolve(const std::string& path) const {
    fs::path p(path);
    if (p.is_absolute() || dir_.empty()) return p.lexically_normal().string();
    return (dir_ / p).lexically_normal().string();
  }

  void loadStore(ConfigNode node) {
    auto& s = config_.store;
    s.maxSeries = static_cast<std::size_t>(
        integerIn(node, "max_series", static_cast<std::int64_t>(s.maxSeries), 1, INT64_MAX));
    s.staleAfterScrapes = static_cast<int>(integerIn(node, "stale_after_scrapes", s.staleAfterScrapes, 1, INT_MAX));
    s.maxPointsPerSeries = static_cast<std::size_t>(
        integerIn(node, "max_points_per_series", static_cast<std::int64_t>(s.maxPointsPerSeries), 1, INT64_MAX));
    node.finish();
  }

  void loadSources(ConfigNode& root) {
    UniqueNames names("source");
    for (ConfigNode& element : root.childList("sources")) {
      SourceConfig source;
      if (!requireMap(element)) continue;
      if (auto name = element.requiredString("name")) {
        if (!isSourceName(*name)) {
          element.error("name", "expected a name of lower-case letters, digits, '_' and '-', got '" + *name + "'");
        }
        names.check(element, *name);
        source.spec.name = *name;
      }
      if (auto kind = element.requiredString("kind")) source.spec.kind = *kind;
      source.spec.interval = positiveDuration(element, "interval", kMaxSourceInterval).value_or(kDefaultSourceInterval);
      if (source.spec.interval < kMinSourceInterval) {
        element.error("interval", "expected at least " + formatDuration(kMinSourceInterval) +
                                      " (a shorter one is a busy loop), got " + raw(element, "interval"));
        source.spec.interval = kMinSourceInterval;
      }
      // Without an explicit timeout, a short interval gets half of it.
      Seconds defaultTimeout = std::min(kDefaultSourceTimeout, source.spec.interval / 2);
      source.spec.timeout = defaultTimeout;
      if (auto timeout = positiveDuration(element, "timeout", kNoLimit)) {
        if (*timeout < source.spec.interval) {
          source.spec.timeout = *timeout;
        } else {
          element.error("timeout", "expected a timeout shorter than the interval (" +
                                       formatDuration(source.spec.interval) + "), got " + raw(element, "timeout"));
        }
      }
      // The rest belongs to the source's factory, which finishes the node.
      source.params = element;
      config_.sources.push_back(std::move(source));
    }
  }

  // A required number of a knob; integer knobs need whole numbers.
  std::optional<double> knobNumber(ConfigNode& node, const std::string& key, bool integer) {
    if (!node.has(key)) {
      node.error(key, "missing required key '" + key + "' (a number)");
      node.child(key);  // consumes an empty `key:` so finish() does not call it unknown
      return std::nullopt;
    }
    auto v = node.optionalNumber(key);
    if (v && integer && *v != std::floor(*v)) {
      node.error(key, "expected a whole number for an int knob, got " + formatShortest(*v));
      return std::nullopt;
    }
    return v;
  }

  void loadKnobs(ConfigNode& root) {
    UniqueNames names("knob");
    for (ConfigNode& element : root.childList("knobs")) {
      KnobConfig knob;
      KnobSpec& k = knob.spec;
      if (!requireMap(element)) continue;
      if (auto name = element.requiredString("name")) {
        if (!isIdentifier(*name)) {
          element.error("name", "expected a name of letters, digits and '_' not starting with a digit, got '" +
                                    *name + "'");
        }
        names.check(element, *name);
        k.name = *name;
      }
      k.integer = element.getEnum("type", {"int", "float"}, "int") == "int";
      auto min = knobNumber(element, "min", k.integer);
      auto max = knobNumber(element, "max", k.integer);
      auto baseline = knobNumber(element, "baseline", k.integer);
      if (min && max && *min > *max) {
        element.error("max", "expected max >= min (" + formatShortest(*min) + "), got " + formatShortest(*max));
      } else if (min && max && baseline && (*baseline < *min || *baseline > *max)) {
        element.error("baseline", "expected a baseline within [" + formatShortest(*min) + ", " + formatShortest(*max) +
                                      "], got " + formatShortest(*baseline));
      }
      k.min = min.value_or(0);
      k.max = max.value_or(0);
      k.baseline = baseline.value_or(k.min);
      k.maxStep = numberAtLeastZero(element, "max_step");
      k.cooldown = element.getDuration("cooldown", 0);
      k.deadband = numberAtLeastZero(element, "deadband");
      k.maxChangesPerHour = static_cast<int>(integerIn(element, "max_changes_per_hour", 0, 0, INT_MAX));
      k.dryRun = element.getBool("dry_run", false);
      k.restoreOnExit = element.getBool("restore_on_exit", false);
      k.unit = element.getString("unit", "");
      ConfigNode actuator = element.child("actuator");
      if (actuator.missing()) {
        element.error("actuator", "missing required key 'actuator' (e.g. actuator: {kind: log})");
      } else if (auto kind = actuator.requiredString("kind")) {
        knob.actuatorKind = *kind;
      }
      // The actuator mapping minus `kind` is for the actuator's factory.
      knob.actuatorParams = actuator;
      element.finish();
      config_.knobs.push_back(std::move(knob));
    }
  }

  void loadPolicies(ConfigNode& root) {
    int order = 0;
    for (ConfigNode& element : root.childList("policies")) {
      PolicySpec policy;
      policy.order = order++;
      policy.configLine = element.line();
      policy.configColumn = element.column();
      if (!requireMap(element)) continue;
      bool readable = false;
      if (auto file = element.requiredString("file")) {
        policy.file = resolve(*file);
        std::error_code ec;
        readable = fs::is_regular_file(policy.file, ec);
        if (!readable) {
          std::string why = fs::is_directory(policy.file, ec) ? " is a directory"
                            : fs::exists(policy.file, ec)      ? " is not a regular file"
                                                               : " does not exist";
          element.error("file", "expected an existing policy file, got '" + *file + "' (" + policy.file + why + ")");
        }
      }
      policy.name = element.getString("name", "");
      policy.interval = positiveDuration(element, "interval", kNoLimit).value_or(0);
      policy.priority = static_cast<int>(integerIn(element, "priority", 0, INT_MIN, INT_MAX));
      readPolicyParams(element, policy.params, &policy.paramLocations);
      element.finish();
      // Without a file there is nothing to compile: said once, here.
      if (readable) config_.policies.push_back(std::move(policy));
    }
  }

  void loadJournal(ConfigNode node) {
    auto& j = config_.journal;
    std::string path = node.getString("path", kDefaultJournalPath);
    j.path = path.empty() ? "" : resolve(path);
    // The journal's directory is created at start; a directory in the
    // file's place would only fail then.
    std::error_code ec;
    if (!j.path.empty() && fs::is_directory(j.path, ec))
      node.error("path", "expected a file path, got '" + path + "', which is a directory");
    j.fsync = node.getBool("fsync", j.fsync);
    j.rotateBytes = sizeAtLeast(node, "rotate_size", j.rotateBytes, kMinJournalRotateSize);
    j.keepFiles = static_cast<int>(integerIn(node, "keep", j.keepFiles, 0, kMaxJournalKeep));
    node.finish();
  }

  void loadServer(ConfigNode node) {
    auto& s = config_.server;
    s.enabled = node.getBool("enabled", s.enabled);
    std::string listen = node.getString("listen", s.listen);
    if (isListenAddress(listen)) {
      s.listen = listen;
    } else {
      node.error("listen", "expected host:port like 127.0.0.1:9464, got '" + listen + "'");
    }
    node.finish();
  }

  void loadLog(ConfigNode node) {
    auto& l = config_.log;
    l.format = node.getEnum("format", {"text", "json"}, l.format);
    l.level = node.getEnum("level", {"trace", "debug", "info", "warn", "error"}, l.level);
    node.finish();
  }

  Config& config_;
  fs::path dir_;
};

Config loadFromRoot(ConfigNode root, const std::string& file, std::size_t diagnosticsBefore,
                    const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  Config config;
  config.file = file;
  // A file that could not be read or parsed has nothing more to check.
  if (root.missing() && diagnostics->items().size() > diagnosticsBefore) return config;
  Loader(config, fs::path(file).parent_path()).load(std::move(root));
  return config;
}

}  // namespace

Config loadConfig(const std::string& file, const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  std::size_t before = diagnostics->items().size();
  return loadFromRoot(ConfigNode::loadFile(file, diagnostics), file, before, diagnostics);
}

Config loadConfigString(const std::string& text, const std::string& file,
                        const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  std::size_t before = diagnostics->items().size();
  return loadFromRoot(ConfigNode::loadString(text, file, diagnostics), file, before, diagnostics);
}

void readPolicyLimits(ConfigNode node, PolicyLimits& l) {
  if (node.has("instruction_budget")) {
    node.child("instruction_budget").asString();  // consumed: reported here, not as unknown
    node.error("instruction_budget", "replaced by cpu_budget, a duration of CPU per tick (e.g. 50ms)");
  }
  if (std::optional<Seconds> budget = positiveDuration(node, "cpu_budget", kMaxCpuBudget)) {
    if (*budget >= kMinCpuBudget) {
      l.cpuBudget = *budget;
    } else {
      node.error("cpu_budget", "expected a duration >= " + formatDuration(kMinCpuBudget) + ", got " +
                                   raw(node, "cpu_budget"));
    }
  }
  l.memoryCapBytes = sizeAtLeast(node, "memory_cap", l.memoryCapBytes, kMinPolicyMemoryCap);
  l.quarantineAfterErrors =
      static_cast<int>(integerIn(node, "quarantine_after_errors", l.quarantineAfterErrors, 1, INT_MAX));
  node.finish();
}

void readPolicyParams(ConfigNode& entry, std::map<std::string, ParamValue>& out,
                      std::map<std::string, std::pair<int, int>>* locations) {
  for (auto& [name, value] : entry.childMap("params")) {
    if (locations) (*locations)[name] = {value.line(), value.column()};
    if (value.isMap()) {  // a table param: {label: value, ...}
      ParamMap map;
      for (const std::string& key : value.keys()) {
        ConfigNode text = value.child(key);
        if (!text.isScalar()) {
          text.error("", "expected a string or a number");
          continue;
        }
        map[key] = text.asString();
      }
      out[name] = std::move(map);
      continue;
    }
    if (!value.isScalar()) {
      value.error("", std::string("expected a number, true/false, a string or a mapping, got ") +
                          (value.isSequence() ? "a list" : "nothing"));
      continue;
    }
    std::string text = value.asString();
    if (text == "true" || text == "false") {
      out[name] = text == "true";
    } else if (auto number = parseFiniteNumber(text)) {
      out[name] = *number;
    } else {
      out[name] = text;
    }
  }
}

}  // namespace trimtab
