// SPDX-License-Identifier: Apache-2.0
#include "predict/eval/trace.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string_view>

namespace trimtab {

namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

bool parseNumber(std::string_view s, double& out) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

Result<Trace> parseTrace(const std::string& text, const std::string& fileName) {
  Trace tr;
  bool header = false, haveLimit = false, haveCross = false;
  std::istringstream in(text);
  std::string line;
  int lineNo = 0;
  auto fail = [&](const std::string& what) { return makeError(fileName + ":" + std::to_string(lineNo) + ": " + what); };
  while (std::getline(in, line)) {
    ++lineNo;
    std::string_view l = trim(line);
    if (l.empty()) continue;
    if (l.front() == '#') {
      l.remove_prefix(1);
      auto colon = l.find(':');
      if (colon == std::string_view::npos) continue;  // a plain comment
      std::string key(trim(l.substr(0, colon)));
      std::string_view value = trim(l.substr(colon + 1));
      double num = 0;
      if (key == "name")
        tr.name = value;
      else if (key == "kind")
        tr.kind = value;
      else if (key == "source")
        tr.source = value;
      else if (key == "description")
        tr.description = value;
      else if (key == "unit")
        tr.unit = value;
      else if (key == "limit" || key == "window" || key == "horizon") {
        if (!parseNumber(value, num)) return fail("'" + key + "' must be a number, got '" + std::string(value) + "'");
        if (key == "limit") {
          tr.limit = num;
          haveLimit = true;
        } else if (!(num > 0)) {
          return fail("'" + key + "' must be > 0 seconds");
        } else {
          (key == "window" ? tr.window : tr.horizon) = num;
        }
      } else if (key == "crosses_at") {
        haveCross = true;
        if (value == "never")
          tr.crossesAt.reset();
        else if (parseNumber(value, num))
          tr.crossesAt = num;
        else
          return fail("'crosses_at' must be a time in seconds or 'never'");
      }
      continue;
    }
    if (!header) {
      if (l != "t,v") return fail("expected the column line 't,v', got '" + std::string(l) + "'");
      header = true;
      continue;
    }
    auto comma = l.find(',');
    Point p{0, 0};
    if (comma == std::string_view::npos || !parseNumber(l.substr(0, comma), p.t) ||
        !parseNumber(l.substr(comma + 1), p.v)) {
      return fail("expected 'seconds,value', got '" + std::string(l) + "'");
    }
    if (!tr.points.empty() && p.t <= tr.points.back().t) return fail("times must increase");
    tr.points.push_back(p);
  }
  if (!haveLimit) return makeError(fileName + ": missing '# limit:' header");
  if (!haveCross) return makeError(fileName + ": missing '# crosses_at:' header");
  if (tr.points.size() < 2) return makeError(fileName + ": fewer than 2 samples");
  if (tr.name.empty()) tr.name = std::filesystem::path(fileName).stem().string();
  return tr;
}

Result<Trace> loadTrace(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return makeError(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return parseTrace(ss.str(), path);
}

std::vector<std::string> traceFiles(const std::string& directory) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(directory, ec)) {
    if (e.is_regular_file() && e.path().extension() == ".csv") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<Seconds> firstCrossing(const std::vector<Point>& points, double limit) {
  for (const Point& p : points) {
    if (p.v >= limit) return p.t;
  }
  return std::nullopt;
}

}  // namespace trimtab
