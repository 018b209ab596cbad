// SPDX-License-Identifier: Apache-2.0
// JSON encoding and human rendering of journal records.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <nlohmann/json.hpp>

#include "common/units.h"
#include "controller/journal.h"

namespace trimtab {

namespace {

// Insertion order keeps the lines readable with plain `tail`.
using Json = nlohmann::ordered_json;

// JSON has no NaN or infinity: NaN (a missing value) is written as null and
// the infinities as the strings "+Inf" and "-Inf" (Prometheus' spelling), so
// an audit can tell an infinite proposal from a missing one.
Json number(double v) {
  if (std::isfinite(v)) return Json(v);
  if (std::isnan(v)) return Json(nullptr);
  return Json(v > 0 ? "+Inf" : "-Inf");
}


std::optional<Verdict> parseVerdict(const std::string& name) {
  for (Verdict v : {Verdict::Apply, Verdict::DryRun, Verdict::Unchanged, Verdict::Vetoed}) {
    if (name == verdictName(v)) return v;
  }
  return std::nullopt;
}

// Field readers: return false with `error` set when the field has the wrong type.
struct Reader {
  const Json& j;
  std::string error;

  bool str(const char* key, std::string& out, bool required = false) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return !required || fail(key, "a string");
    if (!it->is_string()) return fail(key, "a string");
    out = it->get<std::string>();
    return true;
  }
  bool num(const char* key, double& out, bool required = false) {
    auto it = j.find(key);
    if (it == j.end()) return !required || fail(key, "a number");
    if (it->is_null()) {
      out = NAN;
      return true;
    }
    if (it->is_string()) {
      if (auto v = parseNonFinite(it->get<std::string>())) {
        out = *v;
        return true;
      }
    }
    if (!it->is_number()) return fail(key, "a number");
    out = it->get<double>();
    return true;
  }
  bool boolean(const char* key, std::optional<bool>& out, bool required = false) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return !required || fail(key, "true or false");
    if (!it->is_boolean()) return fail(key, "true or false");
    out = it->get<bool>();
    return true;
  }
  bool fail(const char* key, const char* expected) {
    error = fmt::format("field \"{}\": expected {}", key, expected);
    return false;
  }
};

bool readInputs(const Json& j, std::vector<InputRead>& out, std::string& error) {
  auto it = j.find("inputs");
  if (it == j.end() || it->is_null()) return true;
  if (!it->is_array()) {
    error = "field \"inputs\": expected an array";
    return false;
  }
  for (const Json& item : *it) {
    if (!item.is_object()) {
      error = "field \"inputs\": expected objects";
      return false;
    }
    Reader r{item, {}};
    InputRead in;
    std::optional<bool> stale, missing;
    if (!r.str("what", in.what) || !r.num("value", in.value) || !r.boolean("stale", stale) ||
        !r.boolean("missing", missing)) {
      error = "inputs: " + r.error;
      return false;
    }
    in.stale = stale.value_or(false);
    in.missing = missing.value_or(false);
    out.push_back(std::move(in));
  }
  return true;
}

std::string clockTime(double ts) {
  // A journal line is read from disk: its ts may be anything (2.4e57 from
  // the journal_line fuzz target overflowed the cast below). Outside
  // 1970..9999 no clock time is meant.
  if (!(ts >= 0 && ts <= kLatestCalendarTime)) return "--:--:--";
  std::time_t t = static_cast<std::time_t>(ts);
  std::tm tm{};
  localtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}:{:02}", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

}  // namespace

std::string toJsonLine(const JournalRecord& record) {
  Json j;
  if (record.kind == "event") {
    j["ts"] = number(record.eventTime);
    j["kind"] = record.kind;
    j["event"] = record.event;
    j["message"] = record.message;
    if (!record.applied.empty()) {
      Json applied = Json::object();
      for (const auto& [knob, value] : record.applied) applied[knob] = number(value);
      j["applied"] = std::move(applied);
    }
  } else {
    const Decision& d = record.decision;
    j["ts"] = number(d.time);
    j["kind"] = record.kind;
    j["policy"] = d.policy;
    j["knob"] = d.knob;
    j["proposed"] = number(d.proposed);
    j["decided"] = number(d.decided);
    j["previous"] = number(d.previous);
    j["verdict"] = verdictName(d.verdict);
    j["rule"] = d.rule;
    j["reason"] = d.reason;
    j["location"] = d.location;
    Json inputs = Json::array();
    for (const InputRead& in : d.inputs) {
      inputs.push_back(Json{{"what", in.what}, {"value", number(in.value)}, {"stale", in.stale},
                            {"missing", in.missing}});
    }
    j["inputs"] = std::move(inputs);
    if (record.kind == "outcome") {
      j["ok"] = record.ok.value_or(false);
      if (record.effective) j["effective"] = *record.effective;
      j["detail"] = record.detail;
      j["attempts"] = record.attempts;
      j["latency_ms"] = number(record.actuatorLatency * 1000);
    }
  }
  // Reasons and details come from policies and servers: never let bad UTF-8 throw.
  return j.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Result<JournalRecord> fromJsonLine(const std::string& line) {
  Json j;
  try {
    j = Json::parse(line);
  } catch (const Json::exception& e) {
    return makeError(fmt::format("not JSON: {}", e.what()));
  }
  if (!j.is_object()) return makeError("not a JSON object");
  try {
    JournalRecord rec;
    Reader r{j, {}};
    if (!r.str("kind", rec.kind, true)) return makeError(r.error);
    if (rec.kind == "event") {
      if (!r.num("ts", rec.eventTime, true) || !r.str("event", rec.event, true) ||
          !r.str("message", rec.message)) {
        return makeError(r.error);
      }
      if (auto it = j.find("applied"); it != j.end() && !it->is_null()) {
        if (!it->is_object()) return makeError("field \"applied\": expected an object");
        for (const auto& [knob, value] : it->items()) {
          std::optional<double> special = value.is_string() ? parseNonFinite(value.get<std::string>()) : std::nullopt;
          if (!value.is_number() && !value.is_null() && !special)
            return makeError("field \"applied\": expected numbers");
          rec.applied[knob] = special ? *special : value.is_null() ? NAN : value.get<double>();
        }
      }
      return rec;
    }
    if (rec.kind != "decision" && rec.kind != "outcome") {
      return makeError(fmt::format("field \"kind\": expected decision, outcome or event, got \"{}\"", rec.kind));
    }
    Decision& d = rec.decision;
    std::string verdict;
    if (!r.num("ts", d.time, true) || !r.str("policy", d.policy) || !r.str("knob", d.knob, true) ||
        !r.num("proposed", d.proposed) || !r.num("decided", d.decided) || !r.num("previous", d.previous) ||
        !r.str("verdict", verdict, true) || !r.str("rule", d.rule) || !r.str("reason", d.reason) ||
        !r.str("location", d.location)) {
      return makeError(r.error);
    }
    auto v = parseVerdict(verdict);
    if (!v) return makeError(fmt::format("field \"verdict\": unknown verdict \"{}\"", verdict));
    d.verdict = *v;
    std::string error;
    if (!readInputs(j, d.inputs, error)) return makeError(error);
    if (rec.kind == "outcome") {
      double attempts = 0, latencyMs = 0;
      if (!r.boolean("ok", rec.ok, true) || !r.boolean("effective", rec.effective) ||
          !r.str("detail", rec.detail) || !r.num("attempts", attempts) || !r.num("latency_ms", latencyMs)) {
        return makeError(r.error);
      }
      // Any number may be in a damaged line: the cast is defined only within int.
      rec.attempts = std::isfinite(attempts) ? static_cast<int>(std::clamp(attempts, 0.0, 1e9)) : 0;
      rec.actuatorLatency = latencyMs / 1000;
    }
    return rec;
  } catch (const Json::exception& e) {
    return makeError(fmt::format("bad record: {}", e.what()));
  }
}

std::string formatJournalRecord(const JournalRecord& record) {
  if (record.kind == "event") {
    std::string out = fmt::format("{} event {}", clockTime(record.eventTime), record.event);
    if (!record.message.empty()) out += ": " + record.message;
    if (!record.applied.empty()) {
      out += " [";
      bool first = true;
      for (const auto& [knob, value] : record.applied) {
        out += fmt::format("{}{}={}", first ? "" : ", ", knob, value);
        first = false;
      }
      out += "]";
    }
    return out;
  }
  const Decision& d = record.decision;
  std::string out = fmt::format("{} {}  {} ", clockTime(d.time), d.policy, d.knob);
  if (record.kind == "outcome") {
    out += fmt::format("{}  ", d.decided);
    if (record.ok.value_or(false)) {
      out += "ok";
      if (record.effective.has_value()) out += *record.effective ? " (effective)" : " (not yet effective)";
    } else {
      out += fmt::format("failed after {} attempt{}", record.attempts, record.attempts == 1 ? "" : "s");
    }
    out += fmt::format(" {:.0f} ms", record.actuatorLatency * 1000);
    if (!record.detail.empty()) out += "  " + record.detail;
    return out;
  }
  out += fmt::format("{} -> {}", d.previous, d.decided);
  std::string why;
  if (d.proposed != d.decided) why = fmt::format("proposed {}", d.proposed);
  if (!d.rule.empty()) why += (why.empty() ? "" : ", ") + d.rule;
  if (!why.empty()) out += " (" + why + ")";
  out += fmt::format("  {}", verdictName(d.verdict));
  if (!d.reason.empty()) out += "  " + d.reason;
  return out;
}

}  // namespace trimtab
