// SPDX-License-Identifier: Apache-2.0
// The exposition parser's cold path: HELP/TYPE/UNIT/EOF lines, families,
// exemplars, the end of the body, and error messages.
#include <algorithm>
#include <cstring>
#include <string>

#include "sources/exposition_lex.h"
#include "sources/exposition_run.h"

namespace trimtab::detail {
namespace {

using lex::NumberError;

// OpenMetrics: the label names and values of one exemplar, together, are at
// most this many UTF-8 characters.
constexpr std::size_t kMaxExemplarLabelChars = 128;

constexpr const char* kOpenMetricsComments =
    "invalid comment: OpenMetrics allows only '# HELP', '# TYPE', '# UNIT' and '# EOF'";

std::size_t utf8Chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

}  // namespace

void ExpositionRun::comment(const char* p, const char* le) {
  const char* q = p + 1;
  if (openMetrics_ && (q >= le || *q != ' ')) return fail(kOpenMetricsComments);
  q = lex::skipBlanks(q, le);
  const char* kb = q;
  q = lex::scanToken(q, le);
  const std::string_view keyword(kb, static_cast<std::size_t>(q - kb));
  if (keyword == "HELP") return help(q, le);
  if (keyword == "TYPE") return type(q, le);
  if (!openMetrics_) return;  // Prometheus 0.0.4: any other comment is ignored
  if (keyword == "UNIT") return unit(q, le);
  if (keyword == "EOF" && q == le) {
    stats_.sawEof = true;
    afterEof_ = true;
    return;
  }
  fail(kOpenMetricsComments);
}

// Reads the metric name after a metadata keyword. Returns the position after
// it, or null after an error.
const char* ExpositionRun::metadataName(const char* q, const char* le, const char* keyword,
                                        std::string_view& name) {
  if (q >= le) return fail(std::string("missing metric name after '# ") + keyword + "'"), nullptr;
  q = lex::skipBlanks(q, le);
  const char* nb = q;
  if (q >= le || !lex::is(*q, lex::kNameStart)) {
    return failExpected(std::string("invalid metric name in '# ") + keyword + "'", q, le), nullptr;
  }
  // TYPE and UNIT mostly follow a HELP line of the same family.
  const std::size_t familySize = family_.name.size();
  q = familySize > 0 && lex::hasPrefix(q, le, family_.name) ? q + familySize : q + 1;
  q = lex::skipNameChars<true>(q, le);
  name = std::string_view(nb, static_cast<std::size_t>(q - nb));
  if (q < le && !lex::is(*q, lex::kBlank)) {
    return fail("invalid character " + lex::describeChar(*q) + " in metric name " + lex::quote(name)), nullptr;
  }
  return q;
}

void ExpositionRun::help(const char* q, const char* le) {
  std::string_view name;
  q = metadataName(q, le, "HELP", name);
  if (q == nullptr) return;
  if (q < le) q = openMetrics_ ? q + 1 : lex::skipBlanks(q, le);
  std::string_view text(q, static_cast<std::size_t>(le - q));
  // The previous family, whose HELP may live in the arena, is delivered
  // before the arena is reused.
  FamilyState& f = familyFor(name);
  if (f.hasHelp) return fail("second HELP line for " + lex::quote(name));
  if (f.hasSamples) return fail("HELP for " + lex::quote(name) + " after its samples");
  if (std::memchr(text.data(), '\\', text.size()) != nullptr && !unescapeHelp(text)) return;
  f.hasHelp = true;
  f.help = text;
}

// HELP escapes: \\ and \n (OpenMetrics also \").
bool ExpositionRun::unescapeHelp(std::string_view& text) {
  std::string& out = scratch_.help;
  out.clear();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\') {
      out.push_back(c);
      continue;
    }
    if (i + 1 == text.size()) return fail("HELP text ends with a lone '\\'"), false;
    const char e = text[++i];
    if (e == '\\') {
      out.push_back('\\');
    } else if (e == 'n') {
      out.push_back('\n');
    } else if (e == '"' && openMetrics_) {
      out.push_back('"');
    } else {
      return fail("invalid escape '\\" + std::string(1, e) + "' in HELP text (allowed: \\\\, \\n" +
                  (openMetrics_ ? ", \\\")" : ")")),
             false;
    }
  }
  text = out;
  return true;
}

void ExpositionRun::type(const char* q, const char* le) {
  std::string_view name;
  q = metadataName(q, le, "TYPE", name);
  if (q == nullptr) return;
  q = lex::skipBlanks(q, le);
  const char* tb = q;
  q = lex::scanToken(q, le);
  const std::string_view word(tb, static_cast<std::size_t>(q - tb));
  auto where = [name] { return "'# TYPE " + std::string(name) + "'"; };
  if (word.empty()) return fail("missing type after " + where());
  if (lex::skipBlanks(q, le) != le) return fail("unexpected text after the type in " + where());
  MetricType t;
  if (!typeFromWord(word, t)) {
    return fail("unknown metric type " + lex::quote(word) +
                (openMetrics_ ? " (expected counter, gauge, histogram, gaugehistogram, summary, info, stateset "
                                "or unknown)"
                              : " (expected counter, gauge, histogram, summary or untyped)"));
  }
  FamilyState& f = familyFor(name);
  if (f.hasType) return fail("second TYPE line for " + lex::quote(name));
  if (f.hasSamples) return fail("TYPE for " + lex::quote(name) + " after its samples");
  f.hasType = true;
  f.type = t;
}

bool ExpositionRun::typeFromWord(std::string_view w, MetricType& t) const {
  if (w == "counter") {
    t = MetricType::Counter;
  } else if (w == "gauge") {
    t = MetricType::Gauge;
  } else if (w == "histogram") {
    t = MetricType::Histogram;
  } else if (w == "summary") {
    t = MetricType::Summary;
  } else if (w == (openMetrics_ ? "unknown" : "untyped")) {
    t = MetricType::Unknown;
  } else if (openMetrics_ && w == "gaugehistogram") {
    t = MetricType::GaugeHistogram;
  } else if (openMetrics_ && w == "info") {
    t = MetricType::Info;
  } else if (openMetrics_ && w == "stateset") {
    t = MetricType::StateSet;
  } else {
    return false;
  }
  return true;
}

void ExpositionRun::unit(const char* q, const char* le) {
  std::string_view name;
  q = metadataName(q, le, "UNIT", name);
  if (q == nullptr) return;
  if (q < le) ++q;
  const std::string_view u(q, static_cast<std::size_t>(le - q));
  if (lex::skip(q, le, lex::kNameChar) != le) return fail("invalid unit " + lex::quote(u));
  const bool suffixed =
      name.size() > u.size() + 1 && name.ends_with(u) && name[name.size() - u.size() - 1] == '_';
  if (!u.empty() && !suffixed) {
    return fail("metric name " + lex::quote(name) + " must end with '_" + std::string(u) + "' to have unit " +
                lex::quote(u));
  }
  FamilyState& f = familyFor(name);
  if (f.hasUnit) return fail("second UNIT line for " + lex::quote(name));
  if (f.hasSamples) return fail("UNIT for " + lex::quote(name) + " after its samples");
  f.hasUnit = true;
  f.unit = u;
}

FamilyState& ExpositionRun::familyFor(std::string_view name) {
  if (!family_.active || family_.name != name) startFamily(name);
  return family_;
}

void ExpositionRun::startFamily(std::string_view name) {
  closeFamily();
  family_.active = true;
  family_.name = name;
}

// Full parses report every family, even one without samples; filtered ones
// only those with a wanted sample (delivered at that sample).
void ExpositionRun::closeFamily() {
  if (family_.active && !family_.delivered && wantsAll_) deliver();
  family_ = FamilyState{};
}

void ExpositionRun::deliver() {
  ExpositionFamily f;
  f.name = family_.name;
  f.type = family_.type;
  f.help = family_.help;
  f.unit = family_.unit;
  visitor_.onFamily(f);
  family_.delivered = true;
  ++stats_.families;
}

const char* ExpositionRun::parseExemplar(const char* q, const char* le) {
  ++q;
  if (q >= le || *q != ' ') return fail("exemplar: expected a space after '#'"), nullptr;
  q = lex::skipBlanks(q, le);
  if (q >= le || *q != '{') return fail("exemplar: expected '{' to open its labels"), nullptr;
  scratch_.exemplarLabels.clear();
  q = parseLabels(q, le, scratch_.exemplarLabels, true);
  if (q == nullptr) return nullptr;
  std::size_t chars = 0;
  for (const LabelView& l : scratch_.exemplarLabels) chars += utf8Chars(l.name) + utf8Chars(l.value);
  if (chars > kMaxExemplarLabelChars) {
    return fail("exemplar: labels of " + std::to_string(chars) + " characters exceed the limit of " +
                std::to_string(kMaxExemplarLabelChars)),
           nullptr;
  }
  if (q >= le || !lex::is(*q, lex::kBlank)) return fail("exemplar: missing value after its labels"), nullptr;
  q = lex::skipBlanks(q, le);
  const char* vb = q;
  q = lex::scanToken(q, le);
  double ignored = 0;
  if (NumberError e = lex::parseValue(vb, q, ignored); e != NumberError::None) {
    return failNumber(e == NumberError::Range, "exemplar value", vb, q), nullptr;
  }
  q = lex::skipBlanks(q, le);
  if (q < le) {
    const char* tb = q;
    q = lex::scanToken(q, le);
    if (NumberError e = lex::parseSeconds(tb, q, ignored); e != NumberError::None) {
      return failNumber(e == NumberError::Range, "exemplar timestamp", tb, q), nullptr;
    }
    q = lex::skipBlanks(q, le);
  }
  return q;
}

void ExpositionRun::dropSample() {
  if (stats_.samplesDropped++ == 0) {
    dropError_ = stats_.errors.size();
    fail("series limit reached");  // completed in finish(), when the count is known
  }
}

void ExpositionRun::finish() {
  stats_.lines = line_;
  closeFamily();
  if (openMetrics_ && !stats_.sawEof) {
    fail(std::max<std::size_t>(line_, 1), "missing '# EOF' at the end of an OpenMetrics exposition");
  }
  if (stats_.samplesDropped > 0 && dropError_ < stats_.errors.size()) {
    stats_.errors[dropError_].message = "series limit reached (limits.max_series = " +
                                        std::to_string(limits_.maxSeriesPerScrape) +
                                        "): this and the following samples were dropped (" +
                                        std::to_string(stats_.samplesDropped) + " in all)";
  }
}

void ExpositionRun::fail(std::string message) { fail(line_, std::move(message)); }

void ExpositionRun::fail(std::size_t line, std::string message) {
  if (stats_.errors.size() < kMaxRecordedExpositionErrors) {
    stats_.errors.push_back(ExpositionError{line, std::move(message)});
  } else {
    ++stats_.errorsNotRecorded;
  }
}

void ExpositionRun::failNumber(bool rangeError, const char* what, const char* b, const char* e) {
  const std::string_view token(b, static_cast<std::size_t>(e - b));
  if (token.empty()) return fail(std::string("missing ") + what);
  if (rangeError) return fail(std::string(what) + " out of range: " + lex::quote(token));
  fail(std::string("invalid ") + what + ": " + lex::quote(token));
}

void ExpositionRun::failExpected(std::string expectation, const char* q, const char* le) {
  fail(std::move(expectation) + (q < le ? ", found " + lex::describeChar(*q) : ", found the end of the line"));
}

}  // namespace trimtab::detail
