// SPDX-License-Identifier: Apache-2.0
#include "sources/exposition_parser.h"

#include <cstring>
#include <string>

#include "sources/exposition_lex.h"

namespace trimtab {
namespace {

using lex::NumberError;

// OpenMetrics: the label names and values of one exemplar, together, are at
// most this many UTF-8 characters.
constexpr std::size_t kMaxExemplarLabelChars = 128;

std::string str(std::string_view s) { return std::string(s); }

std::size_t utf8Chars(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

// The metadata of the family being read; views into the body (or the
// scratch HELP arena), valid for the whole parse.
struct Family {
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

// One parse of one body. Everything per line is a view or a reused scratch
// buffer; only errors allocate.
class Run {
 public:
  Run(const ExpositionLimits& limits, ExpositionParser::Scratch& scratch, ExpositionFormat format,
      const FamilyFilter& filter, ExpositionVisitor& visitor, ExpositionStats& stats)
      : limits_(limits),
        scratch_(scratch),
        openMetrics_(format == ExpositionFormat::OpenMetrics),
        wantsAll_(filter.wantsAll()),
        filter_(filter),
        visitor_(visitor),
        stats_(stats) {}

  void parseBody(std::string_view body) {
    const char* p = body.data();
    const char* const end = p + body.size();
    while (p < end) {
      const char* nl = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
      const char* le = nl ? nl : end;
      ++line_;
      if (!parseLine(p, le)) break;
      p = nl ? nl + 1 : end;
    }
    stats_.lines = line_;
    closeFamily();
    if (openMetrics_ && !stats_.sawEof) {
      fail(std::max<std::size_t>(line_, 1), "missing '# EOF' at the end of an OpenMetrics exposition");
    }
    if (stats_.samplesDropped > 0 && dropError_ < stats_.errors.size()) {
      stats_.errors[dropError_].message =
          "series limit reached (maxSeriesPerScrape = " + std::to_string(limits_.maxSeriesPerScrape) +
          "): this and the following samples were dropped (" + std::to_string(stats_.samplesDropped) +
          " in all)";
    }
  }

 private:
  // Returns false to stop reading the body.
  bool parseLine(const char* p, const char* le) {
    const auto length = static_cast<std::size_t>(le - p);
    if (length > limits_.maxLineBytes) {
      return fail("line of " + std::to_string(length) + " bytes exceeds the limit of " +
                  std::to_string(limits_.maxLineBytes) + " bytes (maxLineBytes)"),
             true;
    }
    if (le > p && le[-1] == '\r') --le;
    if (afterEof_) {
      if (lex::skipBlanks(p, le) == le) return true;
      fail("content after '# EOF' (ignored to the end of the body)");
      return false;
    }
    if (!openMetrics_) p = lex::skipBlanks(p, le);
    if (p == le) {
      if (openMetrics_) fail("empty line (OpenMetrics allows none)");
      return true;
    }
    lineLength_ = length;
    if (*p == '#') {
      comment(p, le);
    } else {
      sample(p, le);
    }
    return true;
  }

  // ---- samples -------------------------------------------------------------

  void sample(const char* p, const char* le) {
    if (!lex::is(*p, lex::kNameStart)) {
      if (*p == '{') return fail("missing metric name before '{'");
      return fail("invalid metric name: it must start with a letter, '_' or ':', found " +
                  lex::describeChar(*p));
    }
    const char* q = lex::skip(p + 1, le, lex::kNameChar);
    const std::string_view name(p, static_cast<std::size_t>(q - p));
    if (q < le && *q != '{' && !lex::is(*q, lex::kBlank)) {
      return fail("invalid character " + lex::describeChar(*q) + " in metric name " + lex::quote(name));
    }
    if (!wantsAll_ && !wanted(name)) {
      ++stats_.samplesSkipped;
      return;
    }
    if (stats_.samplesParsed >= limits_.maxSeriesPerScrape) {
      if (stats_.samplesDropped++ == 0) {
        dropError_ = stats_.errors.size();
        fail("series limit reached");  // message completed at the end of the body
      }
      return;
    }
    arena_ = nullptr;
    std::vector<LabelView>& labels = scratch_.labels;
    labels.clear();
    if (q < le && *q == '{' && !parseLabels(q, le, labels, false)) return;

    if (q == le) return fail("missing value after " + lex::quote(name));
    if (!lex::is(*q, lex::kBlank)) {
      return fail("expected a space before the value, found " + lex::describeChar(*q));
    }
    q = lex::skipBlanks(q, le);
    const char* vb = q;
    q = lex::scanToken(q, le);
    if (vb == q) return fail("missing value after " + lex::quote(name));
    ExpositionSample s;
    if (NumberError e = lex::parseValue(vb, q, s.value); e != NumberError::None) {
      return fail(numberMessage(e, "value", vb, q));
    }
    q = lex::skipBlanks(q, le);
    if (q < le && *q != '#') {
      const char* tb = q;
      q = lex::scanToken(q, le);
      NumberError e = openMetrics_ ? lex::parseSeconds(tb, q, s.timestampSeconds)
                                   : lex::parseMillis(tb, q, s.timestampSeconds);
      if (e != NumberError::None) {
        return fail(numberMessage(e, openMetrics_ ? "timestamp (float seconds)" : "timestamp (integer ms)",
                                  tb, q));
      }
      s.hasTimestamp = true;
      q = lex::skipBlanks(q, le);
    }
    if (q < le && *q == '#') {
      if (!openMetrics_) return fail("exemplars ('# {...}' after the value) are OpenMetrics only");
      if (!parseExemplar(q, le)) return;
    }
    if (q < le) return fail("unexpected text after the sample: " + lex::quote({q, static_cast<std::size_t>(le - q)}));

    if (!belongs(name)) startFamily(name);
    family_.hasSamples = true;
    if (!family_.delivered) deliver();
    s.name = name;
    s.labels = labels.data();
    s.labelCount = labels.size();
    s.type = family_.type;
    s.family = family_.name;
    s.line = line_;
    visitor_.onSample(s);
    ++stats_.samplesParsed;
  }

  // `q` is at '{'; on success it is past the matching '}'.
  bool parseLabels(const char*& q, const char* le, std::vector<LabelView>& out, bool exemplar) {
    ++q;
    while (true) {
      q = lex::skipBlanks(q, le);
      if (q >= le) return fail("unterminated label set: missing '}'"), false;
      if (*q == '}') {
        ++q;
        return true;
      }
      const char* nb = q;
      if (!lex::is(*q, lex::kLabelStart)) {
        return fail("invalid label name: it must start with a letter or '_', found " +
                    lex::describeChar(*q)),
               false;
      }
      q = lex::skip(q + 1, le, lex::kLabelChar);
      const std::string_view lname(nb, static_cast<std::size_t>(q - nb));
      q = lex::skipBlanks(q, le);
      if (q >= le || *q != '=') {
        return fail("expected '=' after label name " + lex::quote(lname) +
                    (q < le ? ", found " + lex::describeChar(*q) : std::string(", found the end of the line"))),
               false;
      }
      q = lex::skipBlanks(q + 1, le);
      if (q >= le || *q != '"') return fail("expected '\"' to open the value of label " + lex::quote(lname)), false;
      const char* vb = ++q;
      while (q < le && *q != '"' && *q != '\\') ++q;
      std::string_view value;
      if (q < le && *q == '"') {
        value = std::string_view(vb, static_cast<std::size_t>(q - vb));
        ++q;
      } else if (q >= le) {
        return fail("unterminated value of label " + lex::quote(lname) + ": missing closing '\"'"), false;
      } else if (!unescapeValue(vb, q, le, lname, value)) {
        return false;
      }
      if (!exemplar && out.size() >= limits_.maxLabelsPerSeries) {
        return fail("more than " + std::to_string(limits_.maxLabelsPerSeries) +
                    " labels (maxLabelsPerSeries)"),
               false;
      }
      for (const LabelView& l : out) {
        if (l.name == lname) return fail("duplicate label name " + lex::quote(lname)), false;
      }
      out.push_back(LabelView{lname, value});
      q = lex::skipBlanks(q, le);
      if (q < le && *q == ',') {
        ++q;
        continue;
      }
      if (q < le && *q == '}') {
        ++q;
        return true;
      }
      if (q >= le) return fail("unterminated label set: missing '}'"), false;
      return fail("expected ',' or '}' after the value of label " + lex::quote(lname) + ", found " +
                  lex::describeChar(*q)),
             false;
    }
  }

  // Slow path of a label value with escapes: copies into the line's arena,
  // which is sized to the line first so earlier views stay valid.
  bool unescapeValue(const char* vb, const char*& q, const char* le, std::string_view lname,
                     std::string_view& value) {
    if (arena_ == nullptr) {
      if (scratch_.unescaped.size() < lineLength_) scratch_.unescaped.resize(lineLength_);
      arena_ = scratch_.unescaped.data();
    }
    char* const start = arena_;
    char* dst = start;
    std::memcpy(dst, vb, static_cast<std::size_t>(q - vb));
    dst += q - vb;
    while (true) {
      if (q >= le) return fail("unterminated value of label " + lex::quote(lname) + ": missing closing '\"'"), false;
      char c = *q;
      if (c == '"') {
        ++q;
        break;
      }
      if (c != '\\') {
        *dst++ = c;
        ++q;
        continue;
      }
      if (q + 1 >= le) return fail("unterminated value of label " + lex::quote(lname) + ": missing closing '\"'"), false;
      char e = q[1];
      if (e == '\\' || e == '"') {
        *dst++ = e;
      } else if (e == 'n') {
        *dst++ = '\n';
      } else {
        return fail("invalid escape '\\" + std::string(1, e) + "' in the value of label " + lex::quote(lname) +
                    " (allowed: \\\\, \\\", \\n)"),
               false;
      }
      q += 2;
    }
    value = std::string_view(start, static_cast<std::size_t>(dst - start));
    arena_ = dst;
    return true;
  }

  // `q` is at '#' after the value/timestamp: " # {labels} value [timestamp]".
  bool parseExemplar(const char*& q, const char* le) {
    ++q;
    if (q >= le || *q != ' ') return fail("exemplar: expected a space after '#'"), false;
    q = lex::skipBlanks(q, le);
    if (q >= le || *q != '{') return fail("exemplar: expected '{' to open its labels"), false;
    scratch_.exemplarLabels.clear();
    if (!parseLabels(q, le, scratch_.exemplarLabels, true)) return false;
    std::size_t chars = 0;
    for (const LabelView& l : scratch_.exemplarLabels) chars += utf8Chars(l.name) + utf8Chars(l.value);
    if (chars > kMaxExemplarLabelChars) {
      return fail("exemplar: labels of " + std::to_string(chars) + " characters exceed the limit of " +
                  std::to_string(kMaxExemplarLabelChars)),
             false;
    }
    if (q >= le || !lex::is(*q, lex::kBlank)) return fail("exemplar: missing value after its labels"), false;
    q = lex::skipBlanks(q, le);
    const char* vb = q;
    q = lex::scanToken(q, le);
    double ignored = 0;
    if (NumberError e = lex::parseValue(vb, q, ignored); e != NumberError::None || vb == q) {
      return fail(numberMessage(vb == q ? NumberError::Syntax : e, "exemplar value", vb, q)), false;
    }
    q = lex::skipBlanks(q, le);
    if (q < le) {
      const char* tb = q;
      q = lex::scanToken(q, le);
      if (NumberError e = lex::parseSeconds(tb, q, ignored); e != NumberError::None) {
        return fail(numberMessage(e, "exemplar timestamp", tb, q)), false;
      }
      q = lex::skipBlanks(q, le);
    }
    return true;
  }

  bool wanted(std::string_view name) {
    // Samples of one family come in runs: one set lookup per run.
    if (name.size() != lastName_.size() || std::memcmp(name.data(), lastName_.data(), name.size()) != 0) {
      lastName_ = name;
      lastWanted_ = filter_.wants(name);
    }
    return lastWanted_;
  }

  std::string numberMessage(NumberError e, const char* what, const char* b, const char* end) const {
    std::string_view token(b, static_cast<std::size_t>(end - b));
    if (token.empty()) return std::string("missing ") + what;
    if (e == NumberError::Range) return std::string(what) + " out of range: " + lex::quote(token);
    return std::string("invalid ") + what + ": " + lex::quote(token);
  }

  // ---- families and comments -------------------------------------------------

  bool belongs(std::string_view name) const {
    if (!family_.active) return false;
    const std::string_view f = family_.name;
    if (name.size() < f.size() || std::memcmp(name.data(), f.data(), f.size()) != 0) return false;
    return name.size() == f.size() || lex::suffixFits(family_.type, name.substr(f.size()));
  }

  void startFamily(std::string_view name) {
    closeFamily();
    family_.active = true;
    family_.name = name;
  }

  // Full parses report every family, even one without samples; filtered ones
  // only those with a wanted sample (delivered at that sample).
  void closeFamily() {
    if (family_.active && !family_.delivered && wantsAll_) deliver();
    family_ = Family{};
  }

  void deliver() {
    ExpositionFamily f;
    f.name = family_.name;
    f.type = family_.type;
    f.help = family_.help;
    f.unit = family_.unit;
    visitor_.onFamily(f);
    family_.delivered = true;
    ++stats_.families;
  }

  // Metadata for `name`: the family being read, or a new one.
  Family& familyFor(std::string_view name) {
    if (!family_.active || family_.name != name) startFamily(name);
    return family_;
  }

  void comment(const char* p, const char* le) {
    const char* q = p + 1;
    if (openMetrics_ ? (q >= le || *q != ' ') : false) {
      return fail("invalid comment: OpenMetrics allows only '# HELP', '# TYPE', '# UNIT' and '# EOF'");
    }
    q = lex::skipBlanks(q, le);
    const char* kb = q;
    q = lex::scanToken(q, le);
    const std::string_view keyword(kb, static_cast<std::size_t>(q - kb));
    if (keyword == "HELP") return help(q, le);
    if (keyword == "TYPE") return type(q, le);
    if (openMetrics_) {
      if (keyword == "UNIT") return unit(q, le);
      if (keyword == "EOF" && q == le) {
        stats_.sawEof = true;
        afterEof_ = true;
        return;
      }
      return fail("invalid comment: OpenMetrics allows only '# HELP', '# TYPE', '# UNIT' and '# EOF'");
    }
    // Prometheus 0.0.4: any other comment is ignored.
  }

  // Reads " name" after a keyword; `what` names the keyword for messages.
  bool metadataName(const char*& q, const char* le, const char* what, std::string_view& name) {
    if (q >= le) return fail(std::string("missing metric name after '# ") + what + "'"), false;
    q = lex::skipBlanks(q, le);
    const char* nb = q;
    if (q >= le || !lex::is(*q, lex::kNameStart)) {
      return fail(std::string("invalid metric name in '# ") + what + "'" +
                  (q < le ? ": found " + lex::describeChar(*q) : std::string(": missing"))),
             false;
    }
    q = lex::skip(q + 1, le, lex::kNameChar);
    name = std::string_view(nb, static_cast<std::size_t>(q - nb));
    if (q < le && !lex::is(*q, lex::kBlank)) {
      return fail("invalid character " + lex::describeChar(*q) + " in metric name " + lex::quote(name)), false;
    }
    return true;
  }

  void help(const char* q, const char* le) {
    std::string_view name;
    if (!metadataName(q, le, "HELP", name)) return;
    if (q < le) q = openMetrics_ ? q + 1 : lex::skipBlanks(q, le);
    std::string_view text(q, static_cast<std::size_t>(le - q));
    if (std::memchr(text.data(), '\\', text.size()) != nullptr && !unescapeHelp(text)) return;
    Family& f = familyFor(name);
    if (f.hasHelp) return fail("second HELP line for " + lex::quote(name));
    if (f.hasSamples) return fail("HELP for " + lex::quote(name) + " after its samples");
    f.hasHelp = true;
    f.help = text;
  }

  // HELP escapes: \\ and \n (OpenMetrics also \"). The family being read is
  // delivered before another HELP line can reuse the arena.
  bool unescapeHelp(std::string_view& text) {
    std::string& out = scratch_.help;
    out.clear();
    for (std::size_t i = 0; i < text.size(); ++i) {
      char c = text[i];
      if (c != '\\') {
        out.push_back(c);
        continue;
      }
      char e = i + 1 < text.size() ? text[++i] : '\0';
      if (e == '\\') {
        out.push_back('\\');
      } else if (e == 'n') {
        out.push_back('\n');
      } else if (e == '"' && openMetrics_) {
        out.push_back('"');
      } else if (e == '\0') {
        return fail("HELP text ends with a lone '\\'"), false;
      } else {
        return fail("invalid escape '\\" + std::string(1, e) + "' in HELP text (allowed: \\\\, \\n" +
                    (openMetrics_ ? ", \\\")" : ")")),
               false;
      }
    }
    text = out;
    return true;
  }

  void type(const char* q, const char* le) {
    std::string_view name;
    if (!metadataName(q, le, "TYPE", name)) return;
    q = lex::skipBlanks(q, le);
    const char* tb = q;
    q = lex::scanToken(q, le);
    const std::string_view word(tb, static_cast<std::size_t>(q - tb));
    if (word.empty()) return fail("missing type after '# TYPE " + str(name) + "'");
    if (lex::skipBlanks(q, le) != le) return fail("unexpected text after the type in '# TYPE " + str(name) + "'");
    MetricType t;
    if (!typeFromWord(word, t)) {
      return fail("unknown metric type " + lex::quote(word) +
                  (openMetrics_ ? " (expected counter, gauge, histogram, gaugehistogram, summary, info, stateset or unknown)"
                                : " (expected counter, gauge, histogram, summary or untyped)"));
    }
    Family& f = familyFor(name);
    if (f.hasType) return fail("second TYPE line for " + lex::quote(name));
    if (f.hasSamples) return fail("TYPE for " + lex::quote(name) + " after its samples");
    f.hasType = true;
    f.type = t;
  }

  bool typeFromWord(std::string_view w, MetricType& t) const {
    if (w == "counter") t = MetricType::Counter;
    else if (w == "gauge") t = MetricType::Gauge;
    else if (w == "histogram") t = MetricType::Histogram;
    else if (w == "summary") t = MetricType::Summary;
    else if (!openMetrics_ && w == "untyped") t = MetricType::Unknown;
    else if (openMetrics_ && w == "unknown") t = MetricType::Unknown;
    else if (openMetrics_ && w == "gaugehistogram") t = MetricType::GaugeHistogram;
    else if (openMetrics_ && w == "info") t = MetricType::Info;
    else if (openMetrics_ && w == "stateset") t = MetricType::StateSet;
    else return false;
    return true;
  }

  void unit(const char* q, const char* le) {
    std::string_view name;
    if (!metadataName(q, le, "UNIT", name)) return;
    if (q < le) ++q;
    const std::string_view u(q, static_cast<std::size_t>(le - q));
    if (lex::skip(q, le, lex::kNameChar) != le) return fail("invalid unit " + lex::quote(u));
    if (!u.empty() && !(name.size() > u.size() + 1 && name.ends_with(u) && name[name.size() - u.size() - 1] == '_')) {
      return fail("metric name " + lex::quote(name) + " must end with '_" + str(u) + "' to have unit " + lex::quote(u));
    }
    Family& f = familyFor(name);
    if (f.hasUnit) return fail("second UNIT line for " + lex::quote(name));
    if (f.hasSamples) return fail("UNIT for " + lex::quote(name) + " after its samples");
    f.hasUnit = true;
    f.unit = u;
  }

  // ---- errors ------------------------------------------------------------------

  void fail(std::string message) { fail(line_, std::move(message)); }
  void fail(std::size_t line, std::string message) {
    if (stats_.errors.size() < kMaxRecordedExpositionErrors) {
      stats_.errors.push_back(ExpositionError{line, std::move(message)});
    } else {
      ++stats_.errorsNotRecorded;
    }
  }

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
  std::string_view lastName_;
  bool lastWanted_ = false;
  Family family_;
};

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
    stats.errors.push_back(ExpositionError{
        0, "body of " + std::to_string(body.size()) + " bytes exceeds the limit of " +
               std::to_string(limits_.maxBodyBytes) + " bytes (maxBodyBytes); nothing parsed"});
    return stats;
  }
  Run run(limits_, scratch_, format, filter, visitor, stats);
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
