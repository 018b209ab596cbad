// SPDX-License-Identifier: Apache-2.0
#include "scenario.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <set>

#include "common/units.h"
#include "controller/config.h"
#include "controller/source_intervals.h"
#include "number_format.h"
#include "policy/policy_entry_check.h"
#include "scenario_models.h"
#include "scores.h"
#include "sim/models/model_stack.h"

namespace trimtab::sim {

namespace fs = std::filesystem;

std::string durationStepMismatch(Seconds duration, Seconds step) {
  const double steps = duration / step;
  const double whole = std::round(steps);
  if (std::abs(steps - whole) <= 1e-9 * std::max(1.0, steps)) return "";
  const double below = std::floor(steps) * step, above = std::ceil(steps) * step;
  return "expected a whole number of " + formatNumber(step) + " s steps, got " + formatNumber(duration) +
         " s (" + (below >= step ? formatNumber(below) + " s or " : std::string()) + formatNumber(above) +
         " s would do)";
}

namespace {

std::string join(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// A knob value as written: a number, a duration ("1h") or a size ("64MiB").
std::optional<double> parseKnobValue(const std::string& text) {
  if (auto v = parseFiniteNumber(text)) return v;
  if (auto d = parseDuration(text); d.ok()) return *d;
  if (auto s = parseSize(text); s.ok()) return static_cast<double>(*s);
  return std::nullopt;
}

std::string resolve(const std::string& base, const std::string& path) {
  fs::path p(path);
  if (p.is_absolute() || base.empty()) return p.lexically_normal().string();
  return (fs::path(base).parent_path() / p).lexically_normal().string();
}

// Also a file and directory name part (sim-out/NAME, decisions-NAME-seed1.jsonl):
// no '/', and a leading letter, digit or '_', so never "." or "..".
bool isConfigName(const std::string& s) {
  if (s.empty() || s.size() > 64 || s.front() == '-' || s.front() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
  });
}

// Same rules as a trimtab.yaml policy entry (docs/config.md).
// Each policy is compiled with its params here, as `trimtab check` does, so
// that a bad param or a duplicate name is reported at its entry before any run
// (and not after the configs listed before it have run).
void readPolicies(ConfigNode& node, const std::string& baseFile, const PolicyLimits& limits,
                  std::vector<PolicySpec>& out) {
  PolicyEntryCheck entries(limits);
  for (ConfigNode& element : node.childList("policies")) {
    PolicySpec policy;
    policy.order = static_cast<int>(out.size());
    if (!element.isMap()) {
      element.error("", "expected a mapping with file, name, interval, priority, params");
      continue;
    }
    bool readable = false;
    if (auto file = element.requiredString("file")) {
      policy.file = resolve(baseFile, *file);
      std::error_code ec;
      readable = fs::is_regular_file(policy.file, ec);
      if (!readable) {
        element.error("file", "expected an existing policy file, got '" + *file + "' (" + policy.file + ")");
      }
    }
    policy.name = element.getString("name", "");
    Seconds interval = element.getDuration("interval", 0);
    if (interval < 0) element.error("interval", "expected a duration > 0");
    policy.interval = interval;
    policy.priority = static_cast<int>(element.getInteger("priority", 0));
    readPolicyParams(element, policy.params);  // as in a trimtab.yaml policy entry
    element.finish();
    policy.configLine = element.line();
    policy.configColumn = element.column();
    if (readable) {
      if (Status checked = entries.check(policy); !checked) element.error("", checked.error().message);
    }
    out.push_back(std::move(policy));
  }
}

class ScenarioReader {
 public:
  // `modelsComplete`: false when a model entry failed to build (its error is
  // reported): its knobs are then unknown, and "no model accepts knob" for
  // each of them would only bury that one error.
  ScenarioReader(Scenario& s, const ModelStack& stack, bool modelsComplete = true)
      : s_(s), stack_(stack), modelsComplete_(modelsComplete) {}

  void readKnobs(ConfigNode& root) {
    std::set<std::string> seen;
    for (ConfigNode& e : root.childList("knobs")) {
      if (!e.isMap()) {
        e.error("", "expected a mapping (name, min, max, max_step, cooldown, ...)");
        continue;
      }
      ScenarioKnob k;
      KnobSpec& spec = k.spec;
      spec.name = e.requiredString("name").value_or("");
      if (!spec.name.empty() && !seen.insert(spec.name).second) e.error("name", "duplicate knob '" + spec.name + "'");
      ConfigNode actuator = e.child("actuator");
      if (!actuator.missing()) {
        k.actuator = actuator.isScalar() ? actuator.asString() : actuator.getString("kind", "sim");
        if (!actuator.isScalar()) actuator.finish();
        if (k.actuator != "sim" && k.actuator != "self")
          e.error("actuator", "expected sim (the model's knob) or self (the sim source's interval), got '" +
                                  k.actuator + "'");
      }
      const SimKnobInfo* info = nullptr;
      std::vector<SimKnobInfo> infos = stack_.knobs();
      for (const auto& i : infos)
        if (i.name == spec.name) info = &i;
      if (k.actuator == "sim" && !spec.name.empty() && !info && modelsComplete_) {
        e.error("name", unknownKnob(spec.name, infos) + "; the models of this scenario accept: " +
                            join(knobNames(infos)));
      }
      // `self` sets the scrape interval: on a model's other knob it would turn
      // that knob's decisions into intervals.
      if (k.actuator == "self" && info && spec.name != "scrape_interval_seconds") {
        e.error("actuator", "self sets the sim source's scrape interval, but '" + spec.name +
                                "' is a model's knob: leave actuator out (or use sim)");
      }
      // Defaults: what the model accepts. A trigger fires on every change,
      // so its governed value must be able to keep growing.
      k.trigger = info && info->trigger;
      bool integer = info ? (info->integer || k.trigger) : false;
      double min = info ? info->min : SourceIntervals::kMinInterval;
      double max = info ? (k.trigger && info->max == 0 ? kTriggerKnobMax : info->max) : SourceIntervals::kMaxInterval;
      double baseline = 0;
      if (info && !k.trigger) baseline = stack_.knobValue(spec.name).value_or(min);
      if (!info && k.actuator == "self") baseline = s_.sourceInterval;
      spec.unit = info ? info->unit : "s";
      if (e.has("type")) integer = e.getEnum("type", {"int", "float"}, "float") == "int";
      spec.integer = integer;
      spec.min = e.getNumber("min", min);
      spec.max = e.getNumber("max", max);
      k.baselineGiven = e.has("baseline");
      spec.baseline = e.getNumber("baseline", baseline);
      if (spec.min > spec.max) e.error("max", "expected max >= min (" + formatNumber(spec.min) + ")");
      // Bounds the model would not take: the governor would apply a value
      // the model then silently clamps, and the journal would disagree.
      if (info && !k.trigger) {
        if (spec.min < info->min)
          e.error("min", "expected at least " + formatNumber(info->min) + ", the least the model accepts, got " +
                             formatNumber(spec.min));
        if (info->max > 0 && spec.max > info->max)
          e.error("max", "expected at most " + formatNumber(info->max) + ", the most the model accepts, got " +
                             formatNumber(spec.max));
      }
      if (k.baselineGiven && !(spec.baseline >= spec.min && spec.baseline <= spec.max))
        e.error("baseline", "expected a baseline within [" + formatNumber(spec.min) + ", " +
                                formatNumber(spec.max) + "], got " + formatNumber(spec.baseline));
      spec.maxStep = e.getNumber("max_step", 0);
      spec.cooldown = e.getDuration("cooldown", 0);
      spec.deadband = e.getNumber("deadband", 0);
      spec.maxChangesPerHour = static_cast<int>(e.getInteger("max_changes_per_hour", 0));
      spec.dryRun = e.getBool("dry_run", false);
      spec.unit = e.getString("unit", spec.unit);
      if (spec.maxStep < 0 || spec.deadband < 0 || spec.maxChangesPerHour < 0)
        e.error("", "max_step, deadband and max_changes_per_hour must be >= 0");
      e.finish();
      s_.knobs.push_back(std::move(k));
    }
  }

  void readConfigs(ConfigNode& root) {
    std::set<std::string> names;
    for (ConfigNode& e : root.childList("configs")) {
      if (!e.isMap()) {
        e.error("", "expected a mapping (name, description, knobs, policies)");
        continue;
      }
      ScenarioConfig c = readConfig(e, s_.file);
      if (!c.name.empty() && !names.insert(c.name).second) e.error("name", "duplicate config '" + c.name + "'");
      s_.configs.push_back(std::move(c));
    }
    if (s_.configs.empty()) s_.configs.push_back(ScenarioConfig{"static", "the models' own settings", {}, {}, false});
  }

  ScenarioConfig readConfig(ConfigNode& e, const std::string& baseFile) {
    ScenarioConfig c;
    c.name = e.requiredString("name").value_or("");
    if (!c.name.empty() && !isConfigName(c.name))
      e.error("name", "expected a name of letters, digits, '_', '-' and '.' starting with a letter, digit or '_' "
                      "(at most 64), got '" + c.name + "'");
    c.description = e.getString("description", "");
    c.dryRun = e.getBool("dry_run", false);
    std::vector<SimKnobInfo> infos = stack_.knobs();
    for (auto& [knob, value] : e.childMap("knobs")) {
      auto v = value.isScalar() ? parseKnobValue(value.asString()) : std::nullopt;
      if (!v) {
        value.error("", "expected a number, a duration (1h) or a size (64MiB)");
        continue;
      }
      const SimKnobInfo* info = nullptr;
      for (const auto& i : infos)
        if (i.name == knob) info = &i;
      const ScenarioKnob* governed = s_.knob(knob);
      if (!info && !(governed && governed->actuator == "self")) {
        if (!modelsComplete_) continue;
        value.error("", unknownKnob(knob, infos));
        continue;
      }
      if (info && info->trigger) {
        value.error("", "'" + knob + "' is an action (trigger), not a setting: it has no static value");
        continue;
      }
      // Within the governed knob's bounds, else within what the model takes.
      const double low = governed ? governed->spec.min : info->min;
      const double high = governed ? governed->spec.max : (info->max > 0 ? info->max : HUGE_VAL);
      if (!(*v >= low && *v <= high)) {
        value.error("", "expected a value within [" + formatNumber(low) + ", " + formatNumber(high) + "]" +
                            (governed ? " (the knob's bounds in knobs:)" : " (what the model accepts)") + ", got " +
                            formatNumber(*v));
        continue;
      }
      c.knobValues[knob] = *v;
    }
    readPolicies(e, baseFile, s_.policyLimits, c.policies);
    e.finish();
    return c;
  }

  void readPerturb(ConfigNode& root, std::vector<ConfigNode>& models) {
    for (auto& [path, value] : root.childMap("perturb")) {
      auto dot = path.rfind('.');
      const double spread = value.isScalar() ? parseFiniteNumber(value.asString()).value_or(-1) : -1;
      if (dot == std::string::npos || dot == 0 || dot + 1 == path.size()) {
        value.error("", "expected '<model kind>.<key>: spread', e.g. 'load.diurnal.mean_rps: 0.2'");
        continue;
      }
      if (!(spread >= 0 && spread < 1)) {
        value.error("", "expected a relative spread in [0, 1), e.g. 0.2 for +-20 %");
        continue;
      }
      Perturbation p{path.substr(0, dot), path.substr(dot + 1), spread};
      // Only a key a model entry sets is drawn: any other would do nothing.
      bool sets = false, setsOther = false, numeric = true;
      for (ConfigNode& m : models) {
        if (!m.isMap() || !m.has("model") || !m.has(p.key) || m.child("model").asString() != p.kind) continue;
        ConfigNode v = m.child(p.key);
        if (!v.isScalar()) {
          setsOther = true;
          continue;
        }
        sets = true;
        const std::string text = v.asString();
        numeric = numeric && (parseDuration(text).ok() || parseSize(text).ok());  // a bare number is seconds
      }
      if (!sets && setsOther) {
        value.error("", "'" + path + "' is a list or mapping: only numbers, durations and sizes can be perturbed");
        continue;
      }
      if (!sets) {
        value.error("", "no model of kind '" + p.kind + "' sets '" + p.key +
                            "': only a key given in models: can be perturbed");
        continue;
      }
      if (!numeric) {
        value.error("", "'" + p.kind + "." + p.key + "' is not a number, duration or size: only those can be "
                        "perturbed");
        continue;
      }
      s_.perturb.push_back(std::move(p));
    }
  }

  static std::vector<std::string> knobNames(const std::vector<SimKnobInfo>& infos) {
    std::vector<std::string> names;
    for (const auto& i : infos) names.push_back(i.name);
    return names;
  }

  // "no model accepts knob 'x' (did you mean 'y'?)"
  static std::string unknownKnob(const std::string& knob, const std::vector<SimKnobInfo>& infos) {
    const std::string guess = closestMatch(knob, knobNames(infos));
    return "no model accepts knob '" + knob + "'" + (guess.empty() ? "" : " (did you mean '" + guess + "'?)");
  }


 private:
  Scenario& s_;
  const ModelStack& stack_;
  bool modelsComplete_;
};

void readLimits(ConfigNode& root, Scenario& s) {
  ConfigNode store = root.child("store");
  s.store.maxSeries = static_cast<std::size_t>(std::max<std::int64_t>(1, store.getInteger("max_series", 10000)));
  s.store.staleAfterScrapes = static_cast<int>(std::max<std::int64_t>(1, store.getInteger("stale_after_scrapes", 3)));
  s.store.maxPointsPerSeries =
      static_cast<std::size_t>(std::max<std::int64_t>(1, store.getInteger("max_points_per_series", 200000)));
  store.finish();
  readPolicyLimits(root.child("policy_limits"), s.policyLimits);  // as in trimtab.yaml
}

void readTiming(ConfigNode& root, Scenario& s) {
  s.duration = root.getDuration("duration", s.duration);
  s.step = root.getDuration("step", s.step);
  const std::int64_t seed = root.getInteger("seed", 1);
  if (seed < 0) root.error("seed", "expected an integer >= 0, got " + std::to_string(seed));
  s.seed = static_cast<std::uint64_t>(std::max<std::int64_t>(0, seed));
  if (!(s.step > 0)) {
    root.error("step", "expected a duration > 0");
    s.step = 1;
  }
  if (!(s.duration >= s.step) || s.duration > kMaxScenarioDuration) {
    root.error("duration", "expected a duration between the step and 366d");
    s.duration = s.step;
  } else if (s.duration / s.step > static_cast<double>(kMaxScenarioSteps)) {
    root.error("step", "expected at most " + std::to_string(kMaxScenarioSteps) + " steps per run");
  } else if (root.has("duration")) {
    // A default duration the step does not divide may still be overridden
    // (trimtab sim --duration): the CLI checks the one that runs.
    if (std::string why = durationStepMismatch(s.duration, s.step); !why.empty()) root.error("duration", why);
  }
  ConfigNode slo = root.child("slo");
  s.sloLatencyP95 = slo.getDuration("latency_p95", s.sloLatencyP95);
  slo.finish();
  s.flapWindow = root.getDuration("flap_window", s.flapWindow);
  s.primaryScore = root.getString("primary_score", s.primaryScore);
  {
    std::vector<std::string> judged;
    for (const NamedScore& n : namedScores(Scores{}))
      if (n.better != Better::None) judged.emplace_back(n.key);
    if (std::find(judged.begin(), judged.end(), s.primaryScore) == judged.end()) {
      std::string guess = closestMatch(s.primaryScore, judged);
      root.error("primary_score", "unknown score '" + s.primaryScore + "'" +
                                      (guess.empty() ? " (scores: " + join(judged) + ")"
                                                     : " (did you mean '" + guess + "'?)"));
    }
  }
  ConfigNode report = root.child("report");
  s.sample = report.getDuration("sample", 0);
  report.finish();
  ConfigNode source = root.child("source");
  s.sourceName = source.getString("name", s.sourceName);
  s.sourceInterval = source.getDuration("interval", s.sourceInterval);
  if (!(s.sourceInterval >= SourceIntervals::kMinInterval && s.sourceInterval <= SourceIntervals::kMaxInterval))
    source.error("interval", "expected a duration between 50ms and 1h");
  source.finish();
}

}  // namespace

const ScenarioConfig* Scenario::config(const std::string& n) const {
  for (const auto& c : configs)
    if (c.name == n) return &c;
  return nullptr;
}

const ScenarioKnob* Scenario::knob(const std::string& n) const {
  for (const auto& k : knobs)
    if (k.spec.name == n) return &k;
  return nullptr;
}

Seconds Scenario::sampleInterval() const {
  Seconds wanted = sample > 0 ? sample : duration / static_cast<double>(kAutoTimelineBuckets);
  double steps = std::max(1.0, std::round(wanted / step));
  return steps * step;
}

Result<Scenario> loadScenarioString(const std::string& text, const std::string& file,
                                    const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  const std::size_t before = diagnostics->items().size();
  Scenario s;
  s.file = file;
  s.text = text;
  ConfigNode root = ConfigNode::loadString(text, file, diagnostics);
  if (root.missing()) {
    if (diagnostics->items().size() == before) root.error("", "empty scenario");
    return makeError(diagnostics->format());
  }
  // The name is the default output directory's (sim-out/NAME): checked like a config's.
  const std::string stem = fs::path(file).stem().string();
  s.name = root.getString("name", isConfigName(stem) ? stem : "scenario");
  if (!isConfigName(s.name))
    root.error("name", "expected a name of letters, digits, '_', '-' and '.' starting with a letter, digit or '_' "
                       "(at most 64), got '" + s.name + "'");
  s.description = root.getString("description", "");
  readTiming(root, s);
  readLimits(root, s);
  // Build the models once: their parameters are checked with file and line,
  // and their knobs give the defaults of the governed knobs.
  ModelStack stack(s.seed);
  std::vector<ConfigNode> models = root.childList("models");
  if (models.empty()) root.error("models", "expected a list of models (at least a load model and an app model)");
  Status added = stack.addFromConfig(models);
  if (added.ok()) {
    if (Status attached = stack.attach(); !attached) root.error("models", attached.error().message);
  }
  if (added.ok() && !models.empty()) {
    // Requests come from the load and are counted by the app: without either,
    // every request score would read 0 as if all went well.
    bool load = false;
    for (const auto& m : stack.models()) load = load || m->kind().substr(0, 5) == "load.";
    if (!load) root.error("models", "expected a load model (load.constant, load.diurnal, ...): requests come from it");
    if (!stack.find("app"))
      root.error("models", "expected an app model (`- model: app`): requests, latency and errors are counted by it");
  }
  if (const SimModel* monitoring = stack.find("monitoring")) {
    if (auto v = monitoring->knobValue("scrape_interval_seconds")) s.sourceInterval = *v;
  }
  ScenarioReader reader(s, stack, added.ok());
  reader.readKnobs(root);
  reader.readConfigs(root);
  reader.readPerturb(root, models);
  root.finish();
  if (diagnostics->items().size() > before || !added.ok()) {
    std::string message = diagnostics->format();
    if (!added.ok() && diagnostics->items().size() == before) message = added.error().message;
    return makeError(message);
  }
  return s;
}

Result<Scenario> loadScenario(const std::string& file, const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  auto text = readTextFile(file, kMaxScenarioBytes);
  if (!text) return text.error();  // "file: cannot read: ..."
  return loadScenarioString(*text, file, diagnostics);
}

Result<ScenarioConfig> loadConfigFile(const std::string& file, const Scenario& scenario,
                                      const std::shared_ptr<ConfigDiagnostics>& diagnostics) {
  const std::size_t before = diagnostics->items().size();
  ConfigNode root = ConfigNode::loadFile(file, diagnostics);
  if (root.missing()) {
    if (diagnostics->items().size() == before) root.error("", "empty config file");
    return makeError(diagnostics->format());
  }
  // A throwaway copy of the scenario's knobs and models for the checks.
  Scenario copy = scenario;
  ModelStack stack(scenario.seed);
  if (Status built = addScenarioModels(scenario, std::nullopt, stack); !built) return built.error();
  ScenarioReader reader(copy, stack);
  ScenarioConfig c = reader.readConfig(root, file);
  if (diagnostics->items().size() > before) return makeError(diagnostics->format());
  return c;
}

ScenarioConfig policyConfig(const Scenario& scenario, const std::vector<std::string>& policyFiles) {
  ScenarioConfig c;
  c.name = "policies";
  if (!scenario.configs.empty()) c.knobValues = scenario.configs.front().knobValues;
  std::string names;
  for (const auto& file : policyFiles) {
    PolicySpec p;
    p.file = fs::path(file).lexically_normal().string();
    p.order = static_cast<int>(c.policies.size());
    c.policies.push_back(p);
    names += (names.empty() ? "" : " + ") + fs::path(file).stem().string();
  }
  if (policyFiles.size() == 1) c.name = fs::path(policyFiles.front()).stem().string();
  c.description = "--policy " + names;
  return c;
}

}  // namespace trimtab::sim
