// SPDX-License-Identifier: Apache-2.0
// Everything here works on LuaValue copies: no Lua call, so ordinary C++.
#include "policy/testing/test_spec.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "common/config_node.h"
#include "common/units.h"
#include "policy/testing/source_locator.h"

namespace trimtab {
namespace {

const std::vector<std::string> kCaseKeys = {"name", "now", "params", "series", "values", "knobs",
                                            "predictions", "expect", "steps"};
const std::vector<std::string> kStepKeys = {"at", "advance", "series", "values", "knobs", "expect"};
const std::vector<std::string> kSeriesKeys = {"metric", "labels", "type", "points", "csv"};
const std::vector<std::string> kKnobKeys = {"value", "min", "max", "step", "baseline", "cooldown",
                                            "deadband", "integer", "dry_run", "unit"};
const std::vector<std::string> kExpectKeys = {"proposals", "no_proposal", "state", "state_nil",
                                              "log", "error", "knobs"};
// A NaN proposal never reaches a knob (the governor vetoes it), and NaN
// equals nothing, itself included.
constexpr const char* kNanNeverMatches = "NaN never matches a proposal (write true for any value)";
const std::vector<std::string> kProposalKeys = {"knob", "value", "min", "max", "reason"};

// Parsing state for one case; the first problem ends it.
struct Parser {
  const std::string& file;
  const std::string& dir;
  const SourceLocator& locator;
  std::string caseLabel;  // "case \"x\"" or "case #3"
  int caseLine = 0;
  std::string error;

  bool fail(const std::string& key, const std::string& message) {
    int line = key.empty() ? caseLine : locator.keyLine(caseLine, key);
    error = file + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": " + caseLabel + ": " + message;
    return false;
  }

  bool checkKeys(const LuaValue& table, const std::vector<std::string>& known, const std::string& what) {
    const std::string prefix = what.empty() ? "" : what + ": ";
    for (const auto& [key, value] : table.entries) {
      if (!key.isString()) return fail("", prefix + "unexpected entry " + keyPath(key) + " (fields: " + join(known) + ")");
      if (std::find(known.begin(), known.end(), key.text) != known.end()) continue;
      std::string suggestion = closestMatch(key.text, known);
      return fail(key.text, prefix + "unknown field '" + key.text + "'" +
                                (suggestion.empty() ? " (fields: " + join(known) + ")"
                                                    : " (did you mean '" + suggestion + "'?)"));
    }
    return true;
  }

  static std::string join(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
    return out;
  }

  bool number(const LuaValue& v, const std::string& key, double& out) {
    if (v.isNumber() && std::isfinite(v.number)) {
      out = v.number;
      return true;
    }
    return fail(key, key + ": expected a number, got " + describe(v));
  }

  // Seconds as a number or a duration string ("5m").
  bool seconds(const LuaValue& v, const std::string& key, double& out) {
    if (v.isString()) {
      Result<Seconds> parsed = parseDuration(v.text);
      if (!parsed.ok()) return fail(key, key + ": " + parsed.error().message);
      out = *parsed;
      return true;
    }
    return number(v, key, out);
  }

  bool optionalSeconds(const LuaValue& table, const std::string& key, std::optional<Seconds>& out) {
    const LuaValue* v = table.get(key);
    if (!v) return true;
    double s = 0;
    if (!seconds(*v, key, s)) return false;
    out = s;
    return true;
  }

  bool stringList(const LuaValue& v, const std::string& key, std::vector<std::string>& out) {
    if (v.isString()) {
      out.push_back(v.text);
      return true;
    }
    if (v.isList()) {
      for (const LuaValue* item : v.list()) {
        if (!item->isString()) return fail(key, key + ": expected strings, got " + describe(*item));
        out.push_back(item->text);
      }
      return true;
    }
    return fail(key, key + ": expected a string or a list of strings, got " + describe(v));
  }

  bool labels(const LuaValue& v, Labels& out) {
    if (!v.isTable()) return fail("labels", "labels: expected a table like {route = \"/api\"}, got " + describe(v));
    for (const auto& [key, value] : v.entries) {
      if (!key.isString()) return fail("labels", "labels: names must be strings");
      if (value.isString()) {
        out.push_back(Label{key.text, value.text});
      } else if (value.isNumber()) {
        out.push_back(Label{key.text, formatShortest(value.number)});
      } else {
        return fail("labels", "labels." + key.text + ": expected a string, got " + describe(value));
      }
    }
    return true;
  }

  bool points(const LuaValue& v, std::vector<Point>& out) {
    if (!v.isList()) return fail("points", "points: expected a list of {time, value} pairs, got " + describe(v));
    for (const LuaValue* item : v.list()) {
      const LuaValue* t = item->isList() && item->entries.size() == 2 ? &item->entries[0].value : nullptr;
      const LuaValue* value = t ? &item->entries[1].value : nullptr;
      if (!t || !value->isNumber()) {
        return fail("points", "points: expected {time, value} pairs of numbers, got " + describe(*item));
      }
      double time = 0;
      if (!seconds(*t, "points", time)) return false;
      out.push_back(Point{time, value->number});
    }
    std::stable_sort(out.begin(), out.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
    return true;
  }

  bool oneSeries(const LuaValue& v, std::vector<SeriesInput>& out) {
    if (!v.isTable()) return fail("series", "series: expected {metric = \"name\", points = {...}}, got " + describe(v));
    if (!checkKeys(v, kSeriesKeys, "series")) return false;
    SeriesInput& s = out.emplace_back();
    const LuaValue* metric = v.get("metric");
    if (!metric || !metric->isString() || metric->text.empty()) {
      return fail("series", "series: each needs metric = \"name\"");
    }
    s.metric = metric->text;
    s.type = s.metric.size() > 6 && s.metric.ends_with("_total") ? MetricType::Counter : MetricType::Gauge;
    if (const LuaValue* type = v.get("type")) {
      if (type->isString() && type->text == "counter") {
        s.type = MetricType::Counter;
      } else if (type->isString() && type->text == "gauge") {
        s.type = MetricType::Gauge;
      } else {
        return fail("type", "type: expected \"counter\" or \"gauge\", got " + describe(*type));
      }
    }
    if (const LuaValue* l = v.get("labels"); l && !labels(*l, s.labels)) return false;
    const LuaValue* pts = v.get("points");
    const LuaValue* csv = v.get("csv");
    if ((pts != nullptr) == (csv != nullptr)) {
      return fail("series", "series " + s.metric + ": give either points = {{t, v}, ...} or csv = \"file.csv\"");
    }
    if (pts) return points(*pts, s.points);
    if (!csv->isString()) return fail("csv", "csv: expected a file name, got " + describe(*csv));
    std::filesystem::path path = std::filesystem::path(csv->text).is_absolute()
                                     ? std::filesystem::path(csv->text)
                                     : std::filesystem::path(dir) / csv->text;
    Result<std::vector<Point>> read = readCsvPoints(path.string());
    if (!read.ok()) return fail("csv", read.error().message);
    s.points = std::move(*read);
    return true;
  }

  bool series(const LuaValue& table, std::vector<SeriesInput>& out) {
    if (const LuaValue* list = table.get("series")) {
      if (!list->isList()) return fail("series", "series: expected a list of series, got " + describe(*list));
      for (const LuaValue* item : list->list()) {
        if (!oneSeries(*item, out)) return false;
      }
    }
    if (const LuaValue* values = table.get("values")) {
      if (!values->isTable() || (values->isList() && !values->entries.empty())) {
        return fail("values", "values: expected {metric_name = number, ...}, got " + describe(*values));
      }
      for (const auto& [key, value] : values->entries) {
        if (!key.isString() || !value.isNumber()) {
          return fail("values", "values: expected {metric_name = number, ...}, got " + describe(*values));
        }
        SeriesInput& s = out.emplace_back();
        s.metric = key.text;
        s.type = s.metric.ends_with("_total") ? MetricType::Counter : MetricType::Gauge;
        s.points.push_back(Point{NAN, value.number});  // at the tick's time
      }
    }
    return true;
  }

  bool knobs(const LuaValue& table, std::vector<KnobInput>& out) {
    const LuaValue* list = table.get("knobs");
    if (!list) return true;
    if (!list->isTable() || (list->isList() && !list->entries.empty())) {
      return fail("knobs", "knobs: expected {knob_name = value or {value = ..., min = ..., max = ...}}");
    }
    for (const auto& [key, value] : list->entries) {
      if (!key.isString()) return fail("knobs", "knobs: names must be strings");
      KnobInput& k = out.emplace_back();
      k.name = key.text;
      if (value.isNumber()) {
        k.value = value.number;
        k.integer = value.integer;
        continue;
      }
      if (!value.isTable()) return fail("knobs", "knobs." + k.name + ": expected a number or a table, got " + describe(value));
      if (!checkKeys(value, kKnobKeys, "knobs." + k.name)) return false;
      for (const auto& [field, target] : {std::pair{"value", &k.value}, {"min", &k.min}, {"max", &k.max},
                                          {"step", &k.step}, {"baseline", &k.baseline},
                                          {"deadband", &k.deadband}}) {
        if (const LuaValue* f = value.get(field)) {
          double d = 0;
          if (!number(*f, field, d)) return false;
          *target = d;
        }
      }
      if (!optionalSeconds(value, "cooldown", k.cooldown)) return false;
      for (const auto& [field, target] : {std::pair{"integer", &k.integer}, {"dry_run", &k.dryRun}}) {
        if (const LuaValue* f = value.get(field)) {
          if (!f->isBoolean()) return fail(field, std::string(field) + ": expected true or false");
          *target = f->boolean;
        }
      }
      if (const LuaValue* f = value.get("unit")) {
        if (!f->isString()) return fail("unit", "unit: expected a string");
        k.unit = f->text;
      }
      const LuaValue* v = value.get("value");
      if (!v) return fail("knobs", "knobs." + k.name + ": value = ... is missing");
      if (!k.integer.has_value()) k.integer = v->integer;
      // Bounds no knob can have (the governor's clamping would go below min
      // or above max). A value outside them is fine: a knob can start there.
      if (k.min && k.max && *k.min > *k.max)
        return fail("knobs", "knobs." + k.name + ": min (" + formatShortest(*k.min) + ") is above max (" +
                                 formatShortest(*k.max) + ")");
    }
    return true;
  }

  bool params(const LuaValue& table, std::map<std::string, ParamValue>& out) {
    const LuaValue* p = table.get("params");
    if (!p) return true;
    if (!p->isTable() || (p->isList() && !p->entries.empty())) {
      return fail("params", "params: expected {name = value, ...}, got " + describe(*p));
    }
    for (const auto& [key, value] : p->entries) {
      if (!key.isString()) return fail("params", "params: names must be strings");
      if (value.isNumber()) {
        out[key.text] = value.number;
      } else if (value.isBoolean()) {
        out[key.text] = value.boolean;
      } else if (value.isString()) {
        out[key.text] = value.text;
      } else if (value.isTable() && !value.isList()) {  // a table param, as a mapping in the config
        ParamMap map;
        for (const auto& [entry, text] : value.entries) {
          if (!entry.isString() || !(text.isString() || text.isNumber())) {
            return fail("params", "params." + key.text + ": a table param holds names = strings or numbers");
          }
          if (text.isString()) {
            map[entry.text] = text.text;
          } else {
            char number[32];
            std::snprintf(number, sizeof number, "%.17g", text.number);
            map[entry.text] = number;
          }
        }
        out[key.text] = std::move(map);
      } else {
        return fail("params", "params." + key.text + ": a " + value.typeName() +
                                  " cannot be set (numbers, booleans, strings and tables of them, as in the config)");
      }
    }
    return true;
  }

  bool proposal(const std::string& knob, const LuaValue& v, ExpectedProposal& out) {
    out.knob = knob;
    if (v.isNumber()) {
      if (std::isnan(v.number)) return fail("proposals", "proposals." + knob + ": " + kNanNeverMatches);
      out.value = v.number;
      return true;
    }
    if (v.isBoolean() && v.boolean) return true;  // any value
    if (!v.isTable()) {
      return fail("proposals", "proposals." + knob + ": expected a number, true (any value), or {value = ...} / {min = ..., max = ...}");
    }
    if (!checkKeys(v, kProposalKeys, "proposals." + knob)) return false;
    for (const auto& [field, target] : {std::pair{"value", &out.value}, {"min", &out.min}, {"max", &out.max}}) {
      if (const LuaValue* f = v.get(field)) {
        double d = 0;
        if (f->isNumber() && std::isnan(f->number)) {
          return fail(field, "proposals." + knob + "." + field + ": " + kNanNeverMatches);
        }
        if (!number(*f, field, d)) return false;
        *target = d;
      }
    }
    if (out.value && (out.min || out.max)) return fail("proposals", "proposals." + knob + ": give value or min/max, not both");
    if (const LuaValue* r = v.get("reason")) {
      if (!r->isString()) return fail("reason", "reason: expected a Lua pattern string");
      out.reason = r->text;
    }
    return true;
  }

  bool proposals(const LuaValue& v, std::vector<ExpectedProposal>& out) {
    if (!v.isTable()) return fail("proposals", "proposals: expected {knob = value, ...} or a list of {knob = ..., value = ...}");
    if (v.isList()) {
      for (const LuaValue* item : v.list()) {
        const LuaValue* knob = item->isTable() ? item->get("knob") : nullptr;
        if (!knob || !knob->isString()) return fail("proposals", "proposals: each entry of the list needs knob = \"name\"");
        if (!proposal(knob->text, *item, out.emplace_back())) return false;
      }
      return true;
    }
    for (const auto& [key, value] : v.entries) {
      if (!key.isString()) return fail("proposals", "proposals: knob names must be strings");
      if (!proposal(key.text, value, out.emplace_back())) return false;
    }
    return true;
  }

  bool expectation(const LuaValue& v, Expectation& out) {
    if (!v.isTable()) return fail("expect", "expect: expected a table, got " + describe(v));
    if (!checkKeys(v, kExpectKeys, "expect")) return false;
    if (const LuaValue* p = v.get("proposals")) {
      out.proposals.emplace();
      if (!proposals(*p, *out.proposals)) return false;
    }
    if (const LuaValue* n = v.get("no_proposal")) {
      if (!n->isBoolean() || !n->boolean) {
        return fail("no_proposal",
                    "no_proposal: expected true (false would check nothing; to expect some proposal, write "
                    "proposals = {KNOB = true})");
      }
      out.noProposal = true;
      if (out.noProposal && out.proposals && !out.proposals->empty()) {
        return fail("no_proposal", "expect: no_proposal = true contradicts proposals");
      }
    }
    if (const LuaValue* s = v.get("state")) {
      if (!s->isTable()) return fail("state", "state: expected a table (a subset of ctx.state)");
      out.state = *s;
    }
    if (const LuaValue* s = v.get("state_nil"); s && !stringList(*s, "state_nil", out.stateNil)) return false;
    if (const LuaValue* s = v.get("log"); s && !stringList(*s, "log", out.logs)) return false;
    if (const LuaValue* e = v.get("error")) {
      if (!e->isString()) return fail("error", "error: expected a Lua pattern string");
      out.error = e->text;
    }
    if (const LuaValue* k = v.get("knobs")) {
      if (!k->isTable()) return fail("knobs", "expect.knobs: expected {knob_name = value}");
      for (const auto& [key, value] : k->entries) {
        if (!key.isString() || !value.isNumber()) return fail("knobs", "expect.knobs: expected {knob_name = value}");
        out.knobs[key.text] = value.number;
      }
    }
    return true;
  }

  bool step(const LuaValue& v, TestStep& out, std::size_t number) {
    if (!v.isTable()) return fail("steps", "steps: each step is a table {advance = ..., expect = {...}}");
    if (!checkKeys(v, kStepKeys, "step")) return false;
    if (v.get("at") && v.get("advance")) return fail("advance", "step: give at or advance, not both");
    if (!optionalSeconds(v, "at", out.at) || !optionalSeconds(v, "advance", out.advance)) return false;
    if (out.advance && *out.advance < 0) return fail("advance", "advance: must not be negative");
    if (!series(v, out.series) || !knobs(v, out.knobs)) return false;
    const LuaValue* e = v.get("expect");
    if (!e) return fail("steps", "step " + std::to_string(number) + ": expect = {...} is missing (expect = {} checks only that the tick does not fail)");
    return expectation(*e, out.expect);
  }

  bool testCase(const LuaValue& v, TestCase& out) {
    if (!checkKeys(v, kCaseKeys, "")) return false;
    if (!optionalSeconds(v, "now", out.now)) return false;
    if (!params(v, out.params) || !series(v, out.series) || !knobs(v, out.knobs)) return false;
    if (const LuaValue* p = v.get("predictions")) out.predictions = *p;
    const LuaValue* steps = v.get("steps");
    const LuaValue* expect = v.get("expect");
    if (steps && expect) return fail("expect", "give expect = {...} in the case or in each of its steps, not both");
    if (!steps && !expect) return fail("", "expect = {...} (or steps = {...}) is missing: what should the tick do?");
    if (expect) {
      TestStep& only = out.steps.emplace_back();
      only.line = caseLine;
      return expectation(*expect, only.expect);
    }
    if (!steps->isList() || steps->entries.empty()) return fail("steps", "steps: expected a non-empty list of steps");
    for (const LuaValue* s : steps->list()) {
      TestStep& st = out.steps.emplace_back();
      st.line = caseLine;
      if (!step(*s, st, out.steps.size())) return false;
    }
    return true;
  }
};

}  // namespace

Result<std::vector<TestCase>> parseTestCases(const LuaValue& returned, const std::string& file,
                                             const std::string& text, const std::string& dir) {
  if (!returned.isList() || returned.entries.empty()) {
    return makeError(file + ": a test file returns a list of cases: return { {name = \"...\", expect = {...}}, ... }, got " +
                     describe(returned));
  }
  SourceLocator locator(text);
  std::vector<TestCase> cases;
  std::vector<std::string> seen;
  int index = 0;
  for (const LuaValue* item : returned.list()) {
    ++index;
    Parser parser{file, dir, locator, "case #" + std::to_string(index), 0, {}};
    if (!item->isTable()) {
      parser.fail("", "expected a table {name = \"...\", expect = {...}}, got " + describe(*item));
      return makeError(parser.error);
    }
    TestCase& c = cases.emplace_back();
    const LuaValue* name = item->get("name");
    if (!name || !name->isString() || name->text.empty()) {
      parser.fail("", "needs name = \"what it checks\"");
      return makeError(parser.error);
    }
    c.name = name->text;
    parser.caseLabel = "case \"" + c.name + "\"";
    parser.caseLine = c.line = locator.caseLine(c.name);
    if (std::find(seen.begin(), seen.end(), c.name) != seen.end()) {
      parser.fail("", "a case with this name comes earlier in the file");
      return makeError(parser.error);
    }
    seen.push_back(c.name);
    if (!parser.testCase(*item, c)) return makeError(parser.error);
  }
  return cases;
}

}  // namespace trimtab
