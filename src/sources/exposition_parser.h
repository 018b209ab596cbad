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
  std::size_t line = 0;  // 1-based; 0 means the body as a whole (too large)
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

// At most this many errors are kept per parse; later ones are only counted
// (a garbage body must not cost one string per line).
inline constexpr std::size_t kMaxRecordedExpositionErrors = 1000;

struct ExpositionStats {
  std::size_t lines = 0;
  std::size_t families = 0;        // onFamily calls
  std::size_t samplesParsed = 0;   // handed to the visitor
  std::size_t samplesSkipped = 0;  // lines whose metric the filter did not want (counted, not parsed)
  std::size_t samplesDropped = 0;  // over maxSeriesPerScrape (one error says so)
  std::size_t bytes = 0;
  bool sawEof = false;             // OpenMetrics "# EOF"
  std::vector<ExpositionError> errors;  // in line order, at most kMaxRecordedExpositionErrors
  std::size_t errorsNotRecorded = 0;    // errors past that cap
  bool rejected() const { return !errors.empty(); }
  // Lines rejected: every error, plus every dropped sample past the first
  // (whose error stands for them all).
  std::size_t rejectedLines() const {
    return errors.size() + errorsNotRecorded + (samplesDropped > 0 ? samplesDropped - 1 : 0);
  }
};

// Parses a Prometheus 0.0.4 or OpenMetrics 1.0 text exposition. A malformed
// line is recorded in stats.errors with its line number and skipped; the rest
// of the body is kept. Lines whose sample name `filter` does not want are
// skipped after reading only the name (memchr to the next newline) and
// counted in samplesSkipped.
//
// Families: onFamily is called once per family before its first sample (a
// sample with no HELP/TYPE before it is a family of its own, type Unknown);
// sample.family/type come from that family's TYPE line, so `x_bucket`,
// `x_sum`, `x_count`, `x_created` of histogram `x` say family "x",
// type Histogram. With a filter that does not want everything, onFamily is
// called only for families with a wanted sample.
//
// Timestamps: Prometheus gives integer ms, OpenMetrics float seconds; samples
// always carry seconds. OpenMetrics exemplars are validated, then ignored.
// OpenMetrics requires "# EOF" as the last line: a missing one is an error on
// the last line, content after it an error on its line.
//
// Validated: metric and label names, label syntax and escapes (\\, \", \n),
// duplicate label names, values and timestamps (std::from_chars, plus NaN,
// [+-]Inf), HELP escapes, TYPE words per format, UNIT suffixes, exemplar
// syntax, EOF. Lenient where harmless: runs of blanks between tokens, a
// trailing comma in a label set, blank lines and other comments in
// Prometheus 0.0.4. Not checked (they cost a lookup per sample): UTF-8
// validity, duplicate series (the SeriesStore keeps the first and counts the
// rest, at no extra cost), families split across the body, histogram bucket
// consistency.
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
  // Convenience: appends the samples to `out` with canonical keys (labels
  // sorted by name). Does not clear `out`: call out.clear() to reuse a batch.
  ExpositionStats parseInto(std::string_view body, ExpositionFormat format,
                            const FamilyFilter& filter, SampleBatch& out);

  const ExpositionLimits& limits() const { return limits_; }

  // Reused buffers (internal; grown once, then reused by every parse).
  struct Scratch {
    std::vector<LabelView> labels;          // the current sample's labels
    std::vector<LabelView> exemplarLabels;  // the current exemplar's labels
    std::string unescaped;                  // arena for unescaped label values of one line
    std::string help;                       // the current family's unescaped HELP
  };

 private:
  ExpositionLimits limits_;
  Scratch scratch_;
};

// Picks the format from a Content-Type header value (OpenMetrics when it says
// application/openmetrics-text, else Prometheus 0.0.4).
ExpositionFormat formatFromContentType(std::string_view contentType);

}  // namespace trimtab
