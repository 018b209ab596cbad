// SPDX-License-Identifier: Apache-2.0
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "policy/testing/test_spec.h"

namespace trimtab {

Result<std::vector<Point>> readCsvPoints(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec) return makeError(path + ": cannot read (" + ec.message() + ")");
  if (size > kMaxCsvBytes) {
    return makeError(path + ": " + std::to_string(size) + " bytes; a test's CSV holds at most " +
                     std::to_string(kMaxCsvBytes));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return makeError(path + ": cannot open");
  std::vector<Point> points;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::size_t comma = line.find(',');
    double t = NAN, v = NAN;
    bool ok = comma != std::string::npos;
    if (ok) {
      std::string a = line.substr(0, comma), b = line.substr(comma + 1);
      char* end = nullptr;
      t = std::strtod(a.c_str(), &end);
      ok = end != a.c_str() && a.find_first_not_of(" \t", static_cast<std::size_t>(end - a.c_str())) == std::string::npos;
      v = std::strtod(b.c_str(), &end);
      ok = ok && end != b.c_str() &&
           b.find_first_not_of(" \t", static_cast<std::size_t>(end - b.c_str())) == std::string::npos;
    }
    if (!ok) {
      if (points.empty() && number == 1) continue;  // a header
      return makeError(path + ":" + std::to_string(number) + ": expected time,value (two numbers), got '" + line + "'");
    }
    points.push_back(Point{t, v});
  }
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) { return a.t < b.t; });
  return points;
}

}  // namespace trimtab
