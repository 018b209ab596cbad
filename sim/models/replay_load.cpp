// SPDX-License-Identifier: Apache-2.0
#include "replay_load.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace trimtab::sim {
namespace {

constexpr std::size_t kMaxColumn = 64;
constexpr std::size_t kMaxRows = 50'000'000;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '"')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '"' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

bool parseNumber(std::string_view s, double& out) {
  s = trim(s);
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc() && r.ptr == s.data() + s.size() && std::isfinite(out);
}

}  // namespace

Result<ReplayLoad::Series> ReplayLoad::parseCsv(std::string_view text, std::size_t column,
                                                double timeUnit, const std::string& name) {
  Series s;
  std::size_t lineNo = 0;
  bool headerSeen = false;
  double first = 0;
  while (!text.empty()) {
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++lineNo;
    line = trim(line);
    if (line.empty() || line.front() == '#') continue;
    std::vector<std::string_view> fields;
    for (std::size_t pos = 0;;) {
      const std::size_t comma = line.find(',', pos);
      fields.push_back(line.substr(pos, comma == std::string_view::npos ? comma : comma - pos));
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    const std::string where = name + ":" + std::to_string(lineNo) + ": ";
    double t = 0, v = 0;
    if (!parseNumber(fields[0], t)) {
      if (!headerSeen && s.times.empty()) {
        headerSeen = true;  // a header line
        continue;
      }
      return makeError(where + "expected a time in seconds, got '" + std::string(trim(fields[0])) + "'");
    }
    if (fields.size() <= column) {
      return makeError(where + "expected at least " + std::to_string(column + 1) + " columns, got " +
                       std::to_string(fields.size()));
    }
    if (!parseNumber(fields[column], v) || v < 0) {
      return makeError(where + "expected a load value >= 0, got '" + std::string(trim(fields[column])) + "'");
    }
    t *= timeUnit;
    if (s.times.empty()) first = t;
    t -= first;
    if (!s.times.empty() && t <= s.times.back()) {
      return makeError(where + "times must increase (previous row is later or equal)");
    }
    if (s.times.size() >= kMaxRows) return makeError(where + "too many rows");
    s.times.push_back(t);
    s.values.push_back(v);
  }
  if (s.times.empty()) return makeError(name + ": no data rows");
  return s;
}

ReplayLoad::ReplayLoad(Common c, Params p) : LoadModel(c), p_(std::move(p)) {
  const auto& t = p_.series.times;
  const double lastGap = t.size() >= 2 ? t[t.size() - 1] - t[t.size() - 2] : 1.0;
  span_ = t.back() + lastGap;
}

double ReplayLoad::shape(Seconds t) const {
  const auto& times = p_.series.times;
  const auto& values = p_.series.values;
  double u = std::max(0.0, t * p_.speed);
  if (p_.loop) u = std::fmod(u, span_);
  else if (u >= times.back()) return values.back() * p_.scale;
  if (cursor_ >= times.size() || times[cursor_] > u) cursor_ = 0;  // looped or went back
  while (cursor_ + 1 < times.size() && times[cursor_ + 1] <= u) ++cursor_;
  const double t0 = times[cursor_], v0 = values[cursor_];
  const bool wrap = cursor_ + 1 >= times.size();
  const double t1 = wrap ? span_ : times[cursor_ + 1];
  const double v1 = wrap ? values.front() : values[cursor_ + 1];
  const double w = t1 > t0 ? (u - t0) / (t1 - t0) : 0.0;
  return (v0 + (v1 - v0) * std::clamp(w, 0.0, 1.0)) * p_.scale;
}

Result<std::unique_ptr<SimModel>> ReplayLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.replay");
  const Common c = readCommon(r, Combine::Replace);
  Params p;
  const std::string file = node.getString("file");
  if (file.empty()) r.fail("file", "missing required key (a CSV file of time,value rows)");
  const auto column = static_cast<std::size_t>(r.integer("column", 1, 1, kMaxColumn));
  const std::string unit = r.choice("time_unit", {"s", "ms"}, "s");
  p.speed = r.number("speed", p.speed, 1e-6, 1e9);
  p.scale = r.number("scale", p.scale, 0, 1e9);
  p.loop = r.flag("loop", p.loop);
  if (Status s = r.status(); !s) return s.error();
  // Relative paths are relative to the scenario file.
  std::filesystem::path path(file);
  if (path.is_relative() && !node.file().empty()) {
    path = std::filesystem::path(node.file()).parent_path() / path;
  }
  // Reported at the scenario's `file:` key (its file and line), with the
  // CSV's own line where the CSV is at fault.
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    r.fail("file", "cannot read '" + path.string() + "': " + std::strerror(errno));
    return r.status().error();
  }
  std::ostringstream text;
  text << in.rdbuf();
  auto series = parseCsv(text.str(), column, unit == "ms" ? 1e-3 : 1.0, path.string());
  if (!series) {
    r.fail("file", series.error().message);
    return r.status().error();
  }
  p.series = std::move(*series);
  return std::unique_ptr<SimModel>(std::make_unique<ReplayLoad>(c, std::move(p)));
}

TRIMTAB_REGISTER(SimModelRegistry, "load.replay", ReplayLoad::create);

}  // namespace trimtab::sim
