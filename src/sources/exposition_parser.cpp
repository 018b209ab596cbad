// SPDX-License-Identifier: Apache-2.0
// The parser's entry points and its hot path: lines, samples, labels.
#include "sources/exposition_parser.h"

#include <cmath>
#include <cstring>
#include <string>

#include "sources/exposition_lex.h"
#include "sources/exposition_run.h"

namespace trimtab {
namespace detail {

using lex::NumberError;

ExpositionRun::ExpositionRun(const ExpositionLimits& limits, ExpositionParser::Scratch& scratch,
                             ExpositionFormat format, const FamilyFilter& filter, ExpositionVisitor& visitor,
                             ExpositionStats& stats)
    : limits_(limits),
      scratch_(scratch),
      openMetrics_(format == ExpositionFormat::OpenMetrics),
      wantsAll_(filter.wantsAll()),
      filter_(filter),
      visitor_(visitor),
      stats_(stats) {}

void ExpositionRun::parseBody(std::string_view body) {
  const char* p = body.data();
  const char* const end = p + body.size();
  while (p < end) {
    const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    const char* le = nl ? nl : end;
    const char* next = nl ? nl + 1 : end;
    ++line_;
    lineLength_ = static_cast<std::size_t>(le - p);
    if (lineLength_ > limits_.maxLineBytes) [[unlikely]] {
      fail("line of " + std::to_string(lineLength_) + " bytes exceeds the limit of " +
           std::to_string(limits_.maxLineBytes) + " bytes (limits.max_line)");
      p = next;
      continue;
    }
    if (le > p && le[-1] == '\r') --le;
    if (afterEof_) [[unlikely]] {
      if (lex::skipBlanks(p, le) == le) {
        p = next;
        continue;
      }
      fail("content after '# EOF' (ignored to the end of the body)");
      break;
    }
    if (!openMetrics_) p = lex::skipBlanks(p, le);
    if (p == le) {
      if (openMetrics_) fail("empty line (OpenMetrics allows none)");
    } else if (*p == '#') {
      comment(p, le);
    } else {
      sample(p, le);
    }
    p = next;
  }
  finish();
}

void ExpositionRun::sample(const char* p, const char* le) {
  // Samples of one family come in runs: a line that starts with the previous
  // sample's name needs neither a name scan nor a filter lookup.
  const std::size_t lastSize = lastName_.size();
  const bool sameName = lastSize > 0 && lex::hasPrefix(p, le, lastName_) &&
                        (p + lastSize == le || !lex::is(p[lastSize], lex::kNameChar));
  const char* q = p + (sameName ? lastSize : 0);
  if (!sameName) {
    if (!lex::is(*p, lex::kNameStart)) [[unlikely]] {
      if (*p == '{') return fail("missing metric name before '{'");
      return failExpected("invalid metric name: it must start with a letter, '_' or ':'", p, le);
    }
    // The first sample of a family mostly starts with the family's name.
    const std::size_t familySize = family_.name.size();
    q = familySize > 0 && lex::hasPrefix(p, le, family_.name) ? p + familySize : p + 1;
    q = lex::skipNameChars<true>(q, le);
  }
  const std::string_view name(p, static_cast<std::size_t>(q - p));
  if (q < le && *q != '{' && !lex::is(*q, lex::kBlank)) [[unlikely]] {
    return fail("invalid character " + lex::describeChar(*q) + " in metric name " + lex::quote(name));
  }
  if (!sameName) {
    lastName_ = name;
    lastWanted_ = wantsAll_ || filter_.wants(name);
  }
  if (!lastWanted_) {
    ++stats_.samplesSkipped;
    return;
  }
  if (stats_.samplesParsed >= limits_.maxSeriesPerScrape) [[unlikely]] {
    return dropSample();
  }
  arena_ = nullptr;
  std::vector<LabelView>& labels = scratch_.labels;
  labels.clear();
  if (q < le && *q == '{') {
    q = parseLabels(q, le, labels, false);
    if (q == nullptr) return;
  }
  if (q == le) return fail("missing value after " + lex::quote(name));
  if (!lex::is(*q, lex::kBlank)) [[unlikely]] {
    return failExpected("expected a space before the value", q, le);
  }
  q = lex::skipBlanks(q, le);
  if (q == le) return fail("missing value after " + lex::quote(name));

  double value;
  if (const char* ve = lex::parseSimpleDecimal(q, le, value)) {
    q = ve;
  } else {
    const char* vb = q;
    q = lex::scanToken(q, le);
    if (NumberError e = lex::parseValue(vb, q, value); e != NumberError::None) {
      return failNumber(e == NumberError::Range, "value", vb, q);
    }
  }
  q = lex::skipBlanks(q, le);
  bool hasTimestamp = false;
  double timestamp = 0;
  if (q < le && *q != '#') {
    const char* tb = q;
    q = lex::scanToken(q, le);
    NumberError e = openMetrics_ ? lex::parseSeconds(tb, q, timestamp) : lex::parseMillis(tb, q, timestamp);
    if (e != NumberError::None) {
      return failNumber(e == NumberError::Range,
                        openMetrics_ ? "timestamp (float seconds)" : "timestamp (integer ms)", tb, q);
    }
    hasTimestamp = true;
    q = lex::skipBlanks(q, le);
  }
  if (q < le && *q == '#') {
    if (!openMetrics_) return fail("exemplars ('# {...}' after the value) are OpenMetrics only");
    q = parseExemplar(q, le);
    if (q == nullptr) return;
  }
  if (q < le) {
    return fail("unexpected text after the sample: " + lex::quote({q, static_cast<std::size_t>(le - q)}));
  }

  if (!belongs(name)) startFamily(name);
  family_.hasSamples = true;
  if (!family_.delivered) deliver();
  // Every field given: a default-initialised sample costs a block clear per line.
  const ExpositionSample s{name, labels.data(), labels.size(), value, hasTimestamp, timestamp,
                           family_.type, family_.name, line_};
  visitor_.onSample(s);
  ++stats_.samplesParsed;
}

const char* ExpositionRun::parseLabels(const char* q, const char* le, std::vector<LabelView>& out,
                                       bool exemplar) {
  ++q;
  while (true) {
    q = lex::skipBlanks(q, le);
    if (q >= le) return fail("unterminated label set: missing '}'"), nullptr;
    if (*q == '}') return q + 1;
    const char* nb = q;
    if (!lex::is(*q, lex::kLabelStart)) {
      return failExpected("invalid label name: it must start with a letter or '_'", q, le), nullptr;
    }
    q = lex::skip(q + 1, le, lex::kLabelChar);
    const std::string_view name(nb, static_cast<std::size_t>(q - nb));
    q = lex::skipBlanks(q, le);
    if (q >= le || *q != '=') {
      return failExpected("expected '=' after label name " + lex::quote(name), q, le), nullptr;
    }
    q = lex::skipBlanks(q + 1, le);
    if (q >= le || *q != '"') {
      return failExpected("expected '\"' to open the value of label " + lex::quote(name), q, le), nullptr;
    }
    const char* vb = ++q;
    q = lex::findQuoteOrBackslash(q, le);
    std::string_view value;
    if (q < le && *q == '"') {
      value = std::string_view(vb, static_cast<std::size_t>(q - vb));
      ++q;
    } else if (q >= le) {
      return fail("unterminated value of label " + lex::quote(name) + ": missing closing '\"'"), nullptr;
    } else if (q = unescapeValue(vb, q, le, name, value); q == nullptr) {
      return nullptr;
    }
    if (!exemplar && out.size() >= limits_.maxLabelsPerSeries) [[unlikely]] {
      return fail("more than " + std::to_string(limits_.maxLabelsPerSeries) + " labels (limits.max_labels)"),
             nullptr;
    }
    for (const LabelView& l : out) {
      if (l.name.size() == name.size() && l.name[0] == name[0] && l.name == name) [[unlikely]] {
        return fail("duplicate label name " + lex::quote(name)), nullptr;
      }
    }
    out.push_back(LabelView{name, value});
    q = lex::skipBlanks(q, le);
    if (q < le && *q == ',') {
      ++q;
    } else if (q < le && *q == '}') {
      return q + 1;
    } else if (q >= le) {
      return fail("unterminated label set: missing '}'"), nullptr;
    } else {
      return failExpected("expected ',' or '}' after the value of label " + lex::quote(name), q, le), nullptr;
    }
  }
}

// The arena is sized to the whole line before its first use, so views into it
// from earlier labels of the line stay valid.
const char* ExpositionRun::unescapeValue(const char* vb, const char* q, const char* le,
                                         std::string_view labelName, std::string_view& value) {
  if (arena_ == nullptr) {
    if (scratch_.unescaped.size() < lineLength_) scratch_.unescaped.resize(lineLength_);
    arena_ = scratch_.unescaped.data();
  }
  char* const start = arena_;
  char* dst = start;
  std::memcpy(dst, vb, static_cast<std::size_t>(q - vb));
  dst += q - vb;
  while (true) {
    if (q >= le || (*q == '\\' && q + 1 >= le)) {
      return fail("unterminated value of label " + lex::quote(labelName) + ": missing closing '\"'"), nullptr;
    }
    const char c = *q;
    if (c == '"') break;
    if (c != '\\') {
      *dst++ = c;
      ++q;
      continue;
    }
    const char e = q[1];
    if (e == '\\' || e == '"') {
      *dst++ = e;
    } else if (e == 'n') {
      *dst++ = '\n';
    } else {
      return fail("invalid escape '\\" + std::string(1, e) + "' in the value of label " +
                  lex::quote(labelName) + " (allowed: \\\\, \\\", \\n)"),
             nullptr;
    }
    q += 2;
  }
  value = std::string_view(start, static_cast<std::size_t>(dst - start));
  arena_ = dst;
  return q + 1;
}

bool ExpositionRun::belongs(std::string_view name) const {
  if (!family_.active) return false;
  const std::string_view f = family_.name;
  if (name.size() < f.size() || std::memcmp(name.data(), f.data(), f.size()) != 0) return false;
  return name.size() == f.size() || lex::suffixFits(family_.type, name.substr(f.size()));
}

}  // namespace detail

namespace {

// Builds canonical keys into a batch.
class BatchVisitor final : public ExpositionVisitor {
 public:
  explicit BatchVisitor(SampleBatch& out) : out_(out) {}
  void onSample(const ExpositionSample& s) override {
    // The labels are the parser's own scratch vector (non-const storage);
    // sorting them in place is what appendSeriesKey needs and nothing reads
    // them after this call.
    auto* labels = const_cast<LabelView*>(s.labels);
    out_.add(s.name, labels, s.labelCount, s.type, s.value, s.hasTimestamp ? s.timestampSeconds : NAN);
  }

 private:
  SampleBatch& out_;
};

}  // namespace

ExpositionParser::ExpositionParser(ExpositionLimits limits) : limits_(limits) {}

ExpositionStats ExpositionParser::parse(std::string_view body, ExpositionFormat format,
                                        const FamilyFilter& filter, ExpositionVisitor& visitor) {
  ExpositionStats stats;
  stats.bytes = body.size();
  if (body.size() > limits_.maxBodyBytes) {
    stats.errors.push_back(ExpositionError{0, "body of " + std::to_string(body.size()) +
                                                  " bytes exceeds the limit of " +
                                                  std::to_string(limits_.maxBodyBytes) +
                                                  " bytes (maxBodyBytes); nothing parsed"});
    return stats;
  }
  detail::ExpositionRun run(limits_, scratch_, format, filter, visitor, stats);
  run.parseBody(body);
  return stats;
}

ExpositionStats ExpositionParser::parseInto(std::string_view body, ExpositionFormat format,
                                            const FamilyFilter& filter, SampleBatch& out) {
  BatchVisitor visitor(out);
  return parse(body, format, filter, visitor);
}

ExpositionFormat formatFromContentType(std::string_view contentType) {
  constexpr std::string_view kOpenMetrics = "application/openmetrics-text";
  // Media types are case-insensitive.
  for (std::size_t i = 0; i + kOpenMetrics.size() <= contentType.size(); ++i) {
    if (lex::equalsLower(contentType.substr(i, kOpenMetrics.size()), kOpenMetrics)) {
      return ExpositionFormat::OpenMetrics;
    }
  }
  return ExpositionFormat::Prometheus004;
}

}  // namespace trimtab
