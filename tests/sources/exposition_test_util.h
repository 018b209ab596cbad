// SPDX-License-Identifier: Apache-2.0
#pragma once

// Helpers shared by the exposition parser tests: a visitor that copies what
// it is handed, and error lookups.

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sources/exposition_parser.h"

namespace trimtab::test {

struct SeenSample {
  std::string name;
  std::string family;
  MetricType type = MetricType::Unknown;
  std::vector<std::pair<std::string, std::string>> labels;  // in exposition order
  double value = 0;
  bool hasTimestamp = false;
  double timestamp = 0;
  std::size_t line = 0;

  std::string label(std::string_view n) const {
    for (const auto& [k, v] : labels) {
      if (k == n) return v;
    }
    return "<absent>";
  }
};

struct SeenFamily {
  std::string name;
  MetricType type = MetricType::Unknown;
  std::string help;
  std::string unit;
};

class Recorder final : public ExpositionVisitor {
 public:
  void onFamily(const ExpositionFamily& f) override {
    families.push_back(SeenFamily{std::string(f.name), f.type, std::string(f.help), std::string(f.unit)});
  }
  void onSample(const ExpositionSample& s) override {
    SeenSample r;
    r.name = s.name;
    r.family = s.family;
    r.type = s.type;
    for (std::size_t i = 0; i < s.labelCount; ++i) {
      r.labels.emplace_back(std::string(s.labels[i].name), std::string(s.labels[i].value));
    }
    r.value = s.value;
    r.hasTimestamp = s.hasTimestamp;
    r.timestamp = s.timestampSeconds;
    r.line = s.line;
    samples.push_back(std::move(r));
  }

  std::vector<SeenFamily> families;
  std::vector<SeenSample> samples;
};

struct Parsed {
  ExpositionStats stats;
  std::vector<SeenFamily> families;
  std::vector<SeenSample> samples;

  // The first error on `line`, or "" when there is none.
  std::string errorAt(std::size_t line) const {
    for (const ExpositionError& e : stats.errors) {
      if (e.line == line) return e.message;
    }
    return "";
  }
  std::string allErrors() const {
    std::string out;
    for (const ExpositionError& e : stats.errors) out += std::to_string(e.line) + ": " + e.message + "\n";
    return out;
  }
};

inline Parsed parseWith(std::string_view body, ExpositionFormat format, const FamilyFilter& filter,
                        ExpositionLimits limits = {}) {
  ExpositionParser parser(limits);
  Recorder rec;
  Parsed p;
  p.stats = parser.parse(body, format, filter, rec);
  p.families = std::move(rec.families);
  p.samples = std::move(rec.samples);
  return p;
}

inline Parsed prom(std::string_view body, ExpositionLimits limits = {}) {
  return parseWith(body, ExpositionFormat::Prometheus004, FamilyFilter::everything(), limits);
}

inline Parsed om(std::string_view body, ExpositionLimits limits = {}) {
  return parseWith(body, ExpositionFormat::OpenMetrics, FamilyFilter::everything(), limits);
}

inline std::string readFixture(const std::string& name) {
  std::ifstream in(std::string(TRIMTAB_SOURCE_DIR) + "/tests/fixtures/" + name, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

}  // namespace trimtab::test
