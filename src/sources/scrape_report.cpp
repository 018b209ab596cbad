// SPDX-License-Identifier: Apache-2.0
#include "sources/scrape_report.h"

#include <charconv>
#include <cmath>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace trimtab {
namespace {

// Shortest text that reads back as the same double; the exposition
// spellings for the non-finite ones.
std::string formatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

nlohmann::ordered_json jsonNumber(double v) {
  if (std::isfinite(v)) return v;
  return formatNumber(v);
}

// Escapes a HELP text onto one line, as the text format writes it.
std::string oneLine(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\\') {
      out += "\\\\";
    } else {
      out += c;
    }
  }
  return out;
}

// Canonical key of a sample (labels sorted by name), built in a reused buffer.
class KeyBuilder {
 public:
  const std::string& build(const ExpositionSample& s) {
    labels_.assign(s.labels, s.labels + s.labelCount);
    key_.clear();
    appendSeriesKey(key_, s.name, labels_.data(), labels_.size());
    return key_;
  }

 private:
  std::vector<LabelView> labels_;
  std::string key_;
};

class TextReport final : public ExpositionVisitor {
 public:
  explicit TextReport(std::ostream& out) : out_(out) {}
  void onFamily(const ExpositionFamily& f) override {
    out_ << "# family " << f.name << ' ' << metricTypeName(f.type);
    if (!f.help.empty()) out_ << ' ' << oneLine(f.help);
    out_ << '\n';
    if (!f.unit.empty()) out_ << "# unit " << f.unit << '\n';
  }
  void onSample(const ExpositionSample& s) override {
    out_ << metricTypeName(s.type) << "  " << keys_.build(s) << "  " << formatNumber(s.value);
    if (s.hasTimestamp) out_ << "  @" << formatNumber(s.timestampSeconds);
    out_ << '\n';
  }

 private:
  std::ostream& out_;
  KeyBuilder keys_;
};

class JsonReport final : public ExpositionVisitor {
 public:
  void onFamily(const ExpositionFamily& f) override {
    families_.push_back({{"name", f.name},
                         {"type", metricTypeName(f.type)},
                         {"help", f.help},
                         {"unit", f.unit},
                         {"series", nlohmann::ordered_json::array()}});
  }
  void onSample(const ExpositionSample& s) override {
    nlohmann::ordered_json series = {{"key", keys_.build(s)}, {"value", jsonNumber(s.value)}};
    if (s.hasTimestamp) series["timestamp"] = jsonNumber(s.timestampSeconds);
    // The parser announces every family before its first sample.
    families_.back()["series"].push_back(std::move(series));
  }
  nlohmann::ordered_json& families() { return families_; }

 private:
  nlohmann::ordered_json families_ = nlohmann::ordered_json::array();
  KeyBuilder keys_;
};

std::string errorPrefix(const ExpositionError& e) {
  return e.line == 0 ? std::string("body") : "line " + std::to_string(e.line);
}

}  // namespace

int writeScrapeReport(std::string_view body, ExpositionFormat format, const ExpositionLimits& limits,
                      std::ostream& out, bool json) {
  ExpositionParser parser(limits);
  const FamilyFilter all = FamilyFilter::everything();
  ExpositionStats stats;
  if (json) {
    JsonReport report;
    stats = parser.parse(body, format, all, report);
    nlohmann::ordered_json errors = nlohmann::ordered_json::array();
    for (const ExpositionError& e : stats.errors) errors.push_back({{"line", e.line}, {"message", e.message}});
    nlohmann::ordered_json doc = {
        {"families", std::move(report.families())},
        {"errors", std::move(errors)},
        {"summary",
         {{"families", stats.families},
          {"series", stats.samplesParsed},
          {"errors", stats.errors.size() + stats.errorsNotRecorded},
          {"dropped", stats.samplesDropped},
          {"rejected_lines", stats.rejectedLines()},
          {"bytes", stats.bytes}}}};
    out << doc.dump(2) << '\n';
  } else {
    TextReport report(out);
    stats = parser.parse(body, format, all, report);
    for (const ExpositionError& e : stats.errors) out << errorPrefix(e) << ": " << e.message << '\n';
    if (stats.errorsNotRecorded > 0) out << "... and " << stats.errorsNotRecorded << " more errors\n";
    out << "families=" << stats.families << " series=" << stats.samplesParsed
        << " errors=" << stats.errors.size() + stats.errorsNotRecorded << " dropped=" << stats.samplesDropped
        << " bytes=" << stats.bytes << '\n';
  }
  return static_cast<int>(stats.rejectedLines());
}

}  // namespace trimtab
