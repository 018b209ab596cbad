// SPDX-License-Identifier: Apache-2.0
#pragma once

// One parse of one exposition body (internal to the exposition parser). The
// hot path (lines, samples, labels) lives in exposition_parser.cpp; metadata,
// exemplars and errors in exposition_metadata.cpp.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sources/exposition_parser.h"

namespace trimtab::detail {

// The metadata of the family being read. Views into the body (or into the
// scratch HELP arena), valid for the whole parse.
struct FamilyState {
  std::string_view name;
  std::string_view help;
  std::string_view unit;
  MetricType type = MetricType::Unknown;
  bool active = false;
  bool hasHelp = false;
  bool hasType = false;
  bool hasUnit = false;
  bool hasSamples = false;
  bool delivered = false;
};

// Everything per line is a view or a reused scratch buffer; only errors
// allocate.
class ExpositionRun {
 public:
  ExpositionRun(const ExpositionLimits& limits, ExpositionParser::Scratch& scratch, ExpositionFormat format,
                const FamilyFilter& filter, ExpositionVisitor& visitor, ExpositionStats& stats);
  void parseBody(std::string_view body);

 private:
  // ---- exposition_parser.cpp: the hot path
  void sample(const char* p, const char* le);
  // `q` is at '{'. Returns the position past '}', or null after an error.
  const char* parseLabels(const char* q, const char* le, std::vector<LabelView>& out, bool exemplar);
  // `q` is at the first '\\' of a value that starts at `vb`. Returns the
  // position past the closing quote, or null after an error.
  const char* unescapeValue(const char* vb, const char* q, const char* le, std::string_view labelName,
                            std::string_view& value);
  bool belongs(std::string_view name) const;

  // ---- exposition_metadata.cpp
  void comment(const char* p, const char* le);
  void help(const char* q, const char* le);
  void type(const char* q, const char* le);
  void unit(const char* q, const char* le);
  const char* metadataName(const char* q, const char* le, const char* keyword, std::string_view& name);
  bool unescapeHelp(std::string_view& text);
  bool typeFromWord(std::string_view word, MetricType& type) const;
  FamilyState& familyFor(std::string_view name);
  void startFamily(std::string_view name);
  void closeFamily();
  void deliver();
  // `q` is at '#' after the value/timestamp. Returns the end of the
  // exemplar, or null after an error.
  const char* parseExemplar(const char* q, const char* le);
  void finish();
  void dropSample();

  // Errors are rare: their construction stays out of the hot code.
  [[gnu::cold]] void fail(std::string message);
  [[gnu::cold]] void fail(std::size_t line, std::string message);
  [[gnu::cold]] void failNumber(bool rangeError, const char* what, const char* b, const char* e);
  // "<expectation>, found 'c'" (or "found the end of the line").
  [[gnu::cold]] void failExpected(std::string expectation, const char* q, const char* le);

  const ExpositionLimits& limits_;
  ExpositionParser::Scratch& scratch_;
  const bool openMetrics_;
  const bool wantsAll_;
  const FamilyFilter& filter_;
  ExpositionVisitor& visitor_;
  ExpositionStats& stats_;

  std::size_t line_ = 0;
  std::size_t lineLength_ = 0;
  char* arena_ = nullptr;  // next free byte of this line's unescape arena; null until needed
  bool afterEof_ = false;
  std::size_t dropError_ = static_cast<std::size_t>(-1);
  std::string_view lastName_;  // the previous sample line's name
  bool lastWanted_ = false;    // whether the filter wants lastName_
  FamilyState family_;
};

}  // namespace trimtab::detail
