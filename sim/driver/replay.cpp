// SPDX-License-Identifier: Apache-2.0
#include "replay.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <set>

#include "common/units.h"
#include "controller/source_intervals.h"
#include "controller/task_runner.h"
#include "number_format.h"
#include "sim_runner.h"

namespace trimtab::sim {

namespace {

constexpr Seconds kDefaultReplayInterval = 10;
constexpr Seconds kUnixTimeFrom = 1e9;        // later than 2001: a real date
constexpr double kDefaultKnobMax = 1e15;
constexpr std::size_t kMaxInputsShown = 4;
constexpr const char* kSourceName = "replay";
constexpr double kMaxCollections = 50e6;      // a recording that would take longer is refused

// Dry-run never calls it; it exists because every knob needs an actuator.
class NullActuator final : public Actuator {
 public:
  ActuationOutcome apply(const ActuationRequest&) override { return {true, true, "replay: not applied", 1, 0}; }
};

}  // namespace

CollectResult ReplaySource::collect(const FamilyFilter& filter) {
  CollectResult result;
  const Seconds now = clock_.now();
  const auto& samples = recording_.samples;
  for (; cursor_ < samples.size() && samples[cursor_].t <= now; ++cursor_) {
    const RecordedSample& s = samples[cursor_];
    const std::size_t nameLength = std::min(s.key.find('{'), s.key.size());
    if (!filter.wants(std::string_view(s.key).substr(0, nameLength))) {
      ++result.skippedSamples;
      continue;
    }
    result.batch.addKey(s.key, nameLength, s.type, s.value, s.t);
  }
  return result;
}

Result<KnobSpec> parseKnobOption(const std::string& text, const Recording& recording) {
  KnobSpec k;
  std::vector<std::string> parts;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t comma = text.find(',', pos);
    parts.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
  }
  const std::string& head = parts.front();
  const std::size_t eq = head.find('=');
  k.name = head.substr(0, eq);
  if (k.name.empty()) return makeError("--knob " + text + ": expected NAME[=BASELINE][,min=X,max=Y,...]");
  bool baselineSet = false;
  if (eq != std::string::npos) {
    const std::string raw = head.substr(eq + 1);
    auto v = parseFiniteNumber(raw);  // a baseline is a number (of the knob's unit)
    if (!v) return makeError("--knob " + text + ": baseline: expected a number, got '" + raw + "'");
    k.baseline = *v;
    baselineSet = true;
  } else {
    for (const auto& s : recording.samples) {
      if (s.key == k.name && std::isfinite(s.value)) {
        k.baseline = s.value;
        baselineSet = true;
        break;
      }
    }
    if (!baselineSet)
      return makeError("--knob " + text + ": no baseline given and no series '" + k.name +
                       "' in the recording to take it from");
  }
  k.min = std::min(0.0, k.baseline);
  k.max = std::max(kDefaultKnobMax, k.baseline);
  k.integer = k.baseline == std::floor(k.baseline);
  std::set<std::string> given;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const std::size_t e = parts[i].find('=');
    const std::string key = parts[i].substr(0, e);
    if (!given.insert(key).second) return makeError("--knob " + text + ": '" + key + "' given twice");
    const std::string value = e == std::string::npos ? "" : parts[i].substr(e + 1);
    static const char* kSettings[] = {"type", "min", "max", "max_step", "cooldown", "deadband"};
    if (std::find(std::begin(kSettings), std::end(kSettings), key) == std::end(kSettings))
      return makeError("--knob " + text + ": unknown setting '" + key +
                       "' (min, max, max_step, cooldown, deadband, type)");
    if (key == "type") {
      if (value != "int" && value != "float") return makeError("--knob " + text + ": type must be int or float");
      k.integer = value == "int";
      continue;
    }
    auto v = parseDuration(value);
    if (!v && value.size() > 1 && value.front() == '-') {
      v = parseDuration(value.substr(1));
      if (v) v = -*v;
    }
    if (!v) return makeError("--knob " + text + ": " + key + ": " + v.error().message);
    if (key == "min") k.min = *v;
    else if (key == "max") k.max = *v;
    else if (key == "max_step") k.maxStep = *v;
    else if (key == "cooldown") k.cooldown = *v;
    else k.deadband = *v;
  }
  if (k.min > k.max || k.baseline < k.min || k.baseline > k.max)
    return makeError("--knob " + text + ": expected min <= baseline <= max");
  if (k.maxStep < 0 || k.cooldown < 0 || k.deadband < 0)
    return makeError("--knob " + text + ": max_step, cooldown and deadband must be >= 0");
  if (k.integer && (k.baseline != std::floor(k.baseline) || k.min != std::floor(k.min) || k.max != std::floor(k.max)))
    return makeError("--knob " + text + ": an int knob needs a whole baseline, min and max");
  return k;
}

Result<ReplayResult> runReplay(const Recording& recording, ReplaySetup setup,
                               const std::function<void(const JournalRecord&)>& onRecord) {
  if (recording.samples.empty()) return makeError("the recording holds no sample");
  if (setup.config.policies.empty()) return makeError("no policy to replay (give --policy or a config with policies)");
  ReplayResult out;
  out.start = recording.start;
  out.end = recording.end;
  Seconds interval = setup.interval > 0 ? setup.interval : (recording.spacing > 0 ? recording.spacing : kDefaultReplayInterval);
  interval = std::clamp(interval, SourceIntervals::kMinInterval, SourceIntervals::kMaxInterval);
  out.interval = interval;
  if ((recording.end - recording.start) / interval > kMaxCollections)
    return makeError(fmt::format("the recording spans {} s: more than {} collections at {} s; give a longer --interval",
                                 formatNumber(recording.end - recording.start), formatNumber(kMaxCollections),
                                 formatNumber(interval)));

  ManualClock clock(recording.start);
  InlineTaskRunner runner;
  auto intervals = std::make_shared<SourceIntervals>();
  intervals->add(kSourceName, interval);
  CompiledConfig c;
  c.config = std::move(setup.config);
  c.config.dryRun = true;
  c.config.watchPolicies = false;
  c.config.journal.path.clear();
  c.config.server.enabled = false;
  c.config.sources.clear();
  c.sources.push_back(CompiledSource{SourceSpec{kSourceName, kSourceName, interval, interval / 2},
                                     std::make_unique<ReplaySource>(recording, clock)});
  for (const auto& kc : c.config.knobs) {
    c.knobs.push_back(CompiledKnob{kc.spec, "replay", std::make_unique<NullActuator>()});
    out.knobs[kc.spec.name] = ReplayKnobSummary{kc.spec.baseline, kc.spec.baseline, kc.spec.baseline,
                                                kc.spec.baseline, 0};
  }
  Controller controller(std::move(c), intervals, clock, runner);
  controller.setListener([&](const JournalRecord& r) {
    if (r.kind == "decision" && r.decision.verdict == Verdict::DryRun) {
      auto& k = out.knobs[r.decision.knob];
      ++k.changes;
      k.last = r.decision.decided;
      k.min = std::min(k.min, k.last);
      k.max = std::max(k.max, k.last);
    }
    if (onRecord) onRecord(r);
  });
  if (Status s = controller.start(); !s) return s.error();
  for (Seconds next = controller.nextDue(); next <= recording.end + Controller::kDueSlack;
       next = controller.nextDue()) {
    clock.set(next);
    controller.tick();
  }
  out.stats = controller.stats();
  return out;
}

std::string formatReplayTime(Seconds t) {
  if (!std::isfinite(t)) return "--";
  if (t < kUnixTimeFrom) return "+" + virtualTime(t);
  if (t > kLatestCalendarTime) return "+" + virtualTime(t);
  const auto whole = static_cast<std::time_t>(std::floor(t));
  std::tm tm{};
  gmtime_r(&whole, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string formatReplayRecord(const JournalRecord& r) {
  if (r.kind == "event") {
    std::string out = formatReplayTime(r.eventTime) + "  event " + r.event;
    return r.message.empty() ? out : out + ": " + r.message;
  }
  const Decision& d = r.decision;
  const char* verdict = d.verdict == Verdict::DryRun ? "would apply" : verdictName(d.verdict);
  std::string out = fmt::format("{}  {}  {} {} -> {}", formatReplayTime(d.time), d.policy, d.knob,
                                formatNumber(d.previous), formatNumber(d.decided));
  std::string why;
  if (d.proposed != d.decided) why = "proposed " + formatNumber(d.proposed);
  if (!d.rule.empty()) why += (why.empty() ? "" : ", ") + d.rule;
  if (!why.empty()) out += " (" + why + ")";
  out += std::string("  ") + verdict;
  if (!d.reason.empty()) out += "  " + d.reason;
  if (!d.inputs.empty()) {
    std::string inputs;
    for (std::size_t i = 0; i < d.inputs.size() && i < kMaxInputsShown; ++i) {
      const InputRead& in = d.inputs[i];
      inputs += (i ? ", " : "") + in.what + "=" + (in.missing ? "missing" : formatNumber(in.value)) +
                (in.stale ? " (stale)" : "");
    }
    if (d.inputs.size() > kMaxInputsShown) inputs += ", ...";
    out += "  [" + inputs + "]";
  }
  return out;
}

}  // namespace trimtab::sim
