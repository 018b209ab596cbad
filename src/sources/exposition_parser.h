// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/metric.h"

namespace trimtab {

// Limits that bound what one exposition may cost. Config keys of a
// prometheus source (`limits:`); see docs/config.md.
struct ExpositionLimits {
  std::size_t maxBodyBytes = 16u << 20;      // whole body; larger is rejected up front
  std::size_t maxLineBytes = 64u << 10;      // a longer line is an error for that line
  std::size_t maxLabelsPerSeries = 64;       // more is an error for that line
  std::size_t maxSeriesPerScrape = 100'000;  // samples past this are dropped and counted
};

enum class ExpositionFormat {
  Prometheus004,  // text/plain; version=0.0.4
  OpenMetrics,    // application/openmetrics-text; requires "# EOF"
};

// One rejected line.
struct ExpositionError {
  std::size_t line = 0;  // 1-based
  std::string message;   // e.g. "invalid label value escape '\\q'"
};

// A fully parsed sample, handed to a visitor. Views point into the body or
// into the parser's reused scratch buffers: valid only during the call.
struct ExpositionSample {
  std::string_view name;
  const LabelView* labels = nullptr;
  std::size_t labelCount = 0;
  double value = 0;
  bool hasTimestamp = false;
  double timestampSeconds = 0;  // Prometheus text gives ms, OpenMetrics s; always seconds here
  MetricType type = MetricType::Unknown;  // from the family's TYPE line
  std::string_view family;               // family name (x for x_bucket of histogram x)
  std::size_t line = 0;
};

// Family metadata (HELP/TYPE/UNIT), handed to a visitor once per family.
struct ExpositionFamily {
  std::string_view name;
  MetricType type = MetricType::Unknown;
  std::string_view help;  // unescaped
  std::string_view unit;
};

class ExpositionVisitor {
 public:
  virtual ~ExpositionVisitor() = default;
  virtual void onFamily(const ExpositionFamily& /*family*/) {}
  virtual void onSample(const ExpositionSample& sample) = 0;
};

struct ExpositionStats {
  std::size_t lines = 0;
  std::size_t samplesParsed = 0;   // handed to the visitor
  std::size_t samplesSkipped = 0;  // lines whose metric the filter did not want (counted, not parsed)
  std::size_t samplesDropped = 0;  // over maxSeriesPerScrape
  std::size_t bytes = 0;
  bool sawEof = false;             // OpenMetrics "# EOF"
  std::vector<ExpositionError> errors;
  bool rejected() const { return !errors.empty(); }
};

// Parses a Prometheus 0.0.4 or OpenMetrics text exposition. A malformed line is
// recorded in stats.errors with its line number and skipped; the rest of the
// body is kept. Lines whose sample name `filter` does not want are skipped
// after reading only the name (memchr to the next newline).
//
// Hot path: no heap allocation per sample once the parser's scratch buffers
// have grown (reuse one ExpositionParser across scrapes).
//
// Thread safety: one parser per thread.
class ExpositionParser {
 public:
  explicit ExpositionParser(ExpositionLimits limits = {});
  ExpositionStats parse(std::string_view body, ExpositionFormat format, const FamilyFilter& filter,
                        ExpositionVisitor& visitor);
  // Convenience: parse into a SampleBatch (canonical keys).
  ExpositionStats parseInto(std::string_view body, ExpositionFormat format,
                            const FamilyFilter& filter, SampleBatch& out);

  const ExpositionLimits& limits() const { return limits_; }

 private:
  ExpositionLimits limits_;
  std::vector<LabelView> labels_;      // reused per sample
  std::string unescaped_;              // reused arena for unescaped label values
  std::vector<std::size_t> escapedAt_; // reused
};

// Picks the format from a Content-Type header value (OpenMetrics when it says
// application/openmetrics-text, else Prometheus 0.0.4).
ExpositionFormat formatFromContentType(std::string_view contentType);

}  // namespace trimtab
