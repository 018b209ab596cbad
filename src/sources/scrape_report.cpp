// SPDX-License-Identifier: Apache-2.0
#include "sources/scrape_report.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <ostream>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/units.h"

namespace trimtab {
namespace {

// Shortest text that reads back as the same double; the exposition
// spellings for the non-finite ones.
std::string formatNumber(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return formatShortest(v);
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

// What the store would take of each sample: its canonical key (labels sorted
// by name, built in a reused buffer), unless the series came earlier in the
// body. The store keeps a series' first sample of a scrape (as Prometheus
// does), so a repeat is reported as a rejected line.
class FirstSamples {
 public:
  // The key of `s`, or null for a repeat (recorded as an error).
  const std::string* keyIfFirst(const ExpositionSample& s) {
    labels_.assign(s.labels, s.labels + s.labelCount);
    key_.clear();
    appendSeriesKey(key_, s.name, labels_.data(), labels_.size());
    auto [it, added] = firstLine_.try_emplace(key_, s.line);
    if (added) return &key_;
    ++repeats_;
    // Kept like the parser's errors: a body of one line repeated must not
    // cost a message per line.
    if (errors_.size() < kMaxRecordedExpositionErrors) {
      errors_.push_back(ExpositionError{s.line, "series " + key_ + " repeats line " + std::to_string(it->second) +
                                                    "; trimtab keeps the first sample"});
    }
    return nullptr;
  }
  const std::vector<ExpositionError>& errors() const { return errors_; }
  std::size_t repeats() const { return repeats_; }  // recorded or not

 private:
  std::vector<LabelView> labels_;
  std::string key_;
  std::unordered_map<std::string, std::size_t> firstLine_;
  std::vector<ExpositionError> errors_;
  std::size_t repeats_ = 0;
};

// The parser's errors and the repeats, in line order (each list already is).
std::vector<ExpositionError> allErrors(const ExpositionStats& stats, const FirstSamples& firsts) {
  std::vector<ExpositionError> all;
  all.reserve(stats.errors.size() + firsts.errors().size());
  std::merge(stats.errors.begin(), stats.errors.end(), firsts.errors().begin(), firsts.errors().end(),
             std::back_inserter(all),
             [](const ExpositionError& a, const ExpositionError& b) { return a.line < b.line; });
  return all;
}

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
    const std::string* key = firsts_.keyIfFirst(s);
    if (!key) return;
    out_ << metricTypeName(s.type) << "  " << *key << "  " << formatNumber(s.value);
    if (s.hasTimestamp) out_ << "  @" << formatNumber(s.timestampSeconds);
    out_ << '\n';
  }
  const FirstSamples& firsts() const { return firsts_; }

 private:
  std::ostream& out_;
  FirstSamples firsts_;
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
    const std::string* key = firsts_.keyIfFirst(s);
    if (!key) return;
    nlohmann::ordered_json series = {{"key", *key}, {"value", jsonNumber(s.value)}};
    if (s.hasTimestamp) series["timestamp"] = jsonNumber(s.timestampSeconds);
    // The parser announces every family before its first sample.
    families_.back()["series"].push_back(std::move(series));
  }
  nlohmann::ordered_json& families() { return families_; }
  const FirstSamples& firsts() const { return firsts_; }

 private:
  nlohmann::ordered_json families_ = nlohmann::ordered_json::array();
  FirstSamples firsts_;
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
  std::size_t repeated = 0;  // samples of a series already in the body
  if (json) {
    JsonReport report;
    stats = parser.parse(body, format, all, report);
    repeated = report.firsts().repeats();
    nlohmann::ordered_json errors = nlohmann::ordered_json::array();
    for (const ExpositionError& e : allErrors(stats, report.firsts()))
      errors.push_back({{"line", e.line}, {"message", e.message}});
    nlohmann::ordered_json doc = {
        {"families", std::move(report.families())},
        {"errors", std::move(errors)},
        {"summary",
         {{"families", stats.families},
          {"series", stats.samplesParsed - repeated},
          {"errors", stats.errors.size() + stats.errorsNotRecorded + repeated},
          {"dropped", stats.samplesDropped},
          {"rejected_lines", stats.rejectedLines() + repeated},
          {"bytes", stats.bytes}}}};
    // The parser does not check UTF-8 (HELP text, label values): replace
    // invalid bytes rather than throw out of the report.
    out << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << '\n';
  } else {
    TextReport report(out);
    stats = parser.parse(body, format, all, report);
    repeated = report.firsts().repeats();
    const std::size_t notRecorded = repeated - report.firsts().errors().size();  // past the cap
    for (const ExpositionError& e : allErrors(stats, report.firsts()))
      out << errorPrefix(e) << ": " << e.message << '\n';
    if (stats.errorsNotRecorded + notRecorded > 0)
      out << "... and " << stats.errorsNotRecorded + notRecorded << " more errors\n";
    out << "families=" << stats.families << " series=" << stats.samplesParsed - repeated
        << " errors=" << stats.errors.size() + stats.errorsNotRecorded + repeated
        << " dropped=" << stats.samplesDropped << " bytes=" << stats.bytes << '\n';
  }
  return static_cast<int>(stats.rejectedLines() + repeated);
}

}  // namespace trimtab
