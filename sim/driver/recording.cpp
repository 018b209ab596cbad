// SPDX-License-Identifier: Apache-2.0
#include "recording.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <ctime>
#include <map>

#include "scenario_models.h"

namespace trimtab::sim {

namespace {

constexpr double kMillisecondsThreshold = 1e11;  // Unix seconds stay below this until year 5138

std::string trim(std::string_view s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Splits one CSV line (RFC 4180 quotes, "" inside quotes).
Result<std::vector<std::string>> splitCsv(std::string_view line) {
  std::vector<std::string> out;
  std::string field;
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        field += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.push_back(trim(field));
      field.clear();
    } else {
      field += c;
    }
  }
  if (quoted) return makeError("unterminated quote");
  out.push_back(trim(field));
  return out;
}

Result<double> parseValue(std::string_view text) {
  std::string s = lower(trim(text));
  if (s == "nan") return NAN;
  if (s == "+inf" || s == "inf") return INFINITY;
  if (s == "-inf") return -INFINITY;
  std::string_view v = s;
  if (!v.empty() && v.front() == '+') v.remove_prefix(1);
  double out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || v.empty())
    return makeError("expected a number, got '" + std::string(text) + "'");
  return out;
}

int digits(std::string_view s, std::size_t at, std::size_t n) {
  int v = 0;
  for (std::size_t i = at; i < at + n; ++i) {
    if (i >= s.size() || s[i] < '0' || s[i] > '9') return -1;
    v = v * 10 + (s[i] - '0');
  }
  return v;
}

void finish(Recording& r) {
  std::stable_sort(r.samples.begin(), r.samples.end(),
                   [](const RecordedSample& a, const RecordedSample& b) { return a.t < b.t; });
  std::map<std::string, std::pair<Seconds, std::size_t>> last;  // key -> last time, count
  std::vector<Seconds> gaps;
  for (const auto& s : r.samples) {
    auto [it, fresh] = last.try_emplace(s.key, s.t, 0);
    if (!fresh && s.t > it->second.first) gaps.push_back(s.t - it->second.first);
    it->second.first = s.t;
  }
  r.series = last.size();
  if (!r.samples.empty()) {
    r.start = r.samples.front().t;
    r.end = r.samples.back().t;
  }
  if (!gaps.empty()) {
    std::nth_element(gaps.begin(), gaps.begin() + static_cast<std::ptrdiff_t>(gaps.size() / 2), gaps.end());
    r.spacing = gaps[gaps.size() / 2];
  }
}

Status addSample(Recording& r, Seconds t, std::string key, double value, MetricType type) {
  if (r.samples.size() >= kMaxRecordingSamples)
    return makeError("more than " + std::to_string(kMaxRecordingSamples) + " samples");
  r.samples.push_back(RecordedSample{t, std::move(key), value, type});
  return Status::success();
}

MetricType typeFromName(const std::string& s) {
  for (auto t : {MetricType::Counter, MetricType::Gauge, MetricType::Histogram, MetricType::Summary,
                 MetricType::GaugeHistogram, MetricType::Info, MetricType::StateSet})
    if (metricTypeName(t) == s) return t;
  return MetricType::Unknown;
}

Result<Recording> parseJsonLines(std::string_view text, const std::string& name) {
  Recording r;
  r.format = "jsonl";
  std::size_t lineNo = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineNo;
    std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const std::string where = name + ":" + std::to_string(lineNo) + ": ";
    nlohmann::json j = nlohmann::json::parse(t, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return makeError(where + "expected a JSON object {\"t\", \"key\", \"value\"}");
    if (!j.contains("t") || !j["t"].is_number()) return makeError(where + "expected a number 't' (seconds)");
    if (!j.contains("key") || !j["key"].is_string()) return makeError(where + "expected a string 'key'");
    double value = NAN;
    if (j.contains("value") && j["value"].is_number()) {
      value = j["value"].get<double>();
    } else if (j.contains("value") && j["value"].is_string()) {
      auto v = parseValue(j["value"].get<std::string>());
      if (!v) return makeError(where + "value: " + v.error().message);
      value = *v;
    } else if (!j.contains("value") || !j["value"].is_null()) {
      return makeError(where + "expected a number 'value' (or null)");
    }
    auto key = canonicalSeriesKey(j["key"].get<std::string>());
    if (!key) return makeError(where + key.error().message);
    MetricType type = j.contains("type") && j["type"].is_string() ? typeFromName(j["type"].get<std::string>())
                                                                  : MetricType::Unknown;
    if (Status s = addSample(r, j["t"].get<double>(), std::move(*key), value, type); !s) return makeError(where + s.error().message);
  }
  finish(r);
  return r;
}

Result<Recording> parseCsv(std::string_view text, const std::string& name) {
  Recording r;
  std::vector<std::string> header;
  std::vector<std::string> keys;  // wide: per column
  bool longFormat = false;
  std::size_t lineNo = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++lineNo;
    std::string t = trim(line);
    if (t.empty() || t.front() == '#') continue;
    const std::string where = name + ":" + std::to_string(lineNo) + ": ";
    auto fields = splitCsv(t);
    if (!fields) return makeError(where + fields.error().message);
    if (header.empty()) {
      header = *fields;
      const std::string first = lower(header.front());
      if (first != "time" && first != "timestamp")
        return makeError(where + "expected a header starting with 'timestamp' or 'time' (long: timestamp,metric,value; "
                                 "wide: time,<series>,...), got '" + header.front() + "'");
      const std::string second = header.size() > 1 ? lower(header[1]) : "";
      longFormat = header.size() == 3 && (second == "metric" || second == "series" || second == "key" ||
                                          second == "name") && lower(header[2]) == "value";
      r.format = longFormat ? "csv-long" : "csv-wide";
      if (!longFormat) {
        if (header.size() < 2) return makeError(where + "expected at least one series column after 'time'");
        for (std::size_t c = 1; c < header.size(); ++c) {
          auto key = canonicalSeriesKey(header[c]);
          if (!key) return makeError(where + "column " + std::to_string(c + 1) + ": " + key.error().message);
          keys.push_back(std::move(*key));
        }
      }
      continue;
    }
    if (fields->size() != header.size())
      return makeError(where + "expected " + std::to_string(header.size()) + " fields, got " +
                       std::to_string(fields->size()));
    auto ts = parseTimestamp((*fields)[0]);
    if (!ts) return makeError(where + ts.error().message);
    if (longFormat) {
      auto key = canonicalSeriesKey((*fields)[1]);
      if (!key) return makeError(where + key.error().message);
      auto value = parseValue((*fields)[2]);
      if (!value) return makeError(where + value.error().message);
      if (Status s = addSample(r, *ts, std::move(*key), *value, MetricType::Unknown); !s) return makeError(where + s.error().message);
      continue;
    }
    for (std::size_t c = 1; c < fields->size(); ++c) {
      if ((*fields)[c].empty()) continue;
      auto value = parseValue((*fields)[c]);
      if (!value) return makeError(where + "column " + std::to_string(c + 1) + ": " + value.error().message);
      if (Status s = addSample(r, *ts, keys[c - 1], *value, MetricType::Unknown); !s) return makeError(where + s.error().message);
    }
  }
  if (header.empty()) return makeError(name + ": no header and no data");
  finish(r);
  return r;
}

}  // namespace

Result<std::string> canonicalSeriesKey(std::string_view text) {
  // Drop blanks outside quoted label values (Prometheus prints ", " between labels).
  std::string compact;
  bool quoted = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted && c == '\\' && i + 1 < text.size()) {
      compact += c;
      compact += text[++i];
      continue;
    }
    if (c == '"') quoted = !quoted;
    if (!quoted && (c == ' ' || c == '\t')) continue;
    compact += c;
  }
  // A trailing comma inside the braces is legal in the exposition format.
  if (compact.size() >= 2 && compact.back() == '}' && compact[compact.size() - 2] == ',')
    compact.erase(compact.size() - 2, 1);
  std::string name;
  Labels labels;
  if (!parseSeriesKey(compact, name, labels))
    return makeError("expected a series key like name or name{label=\"value\"}, got '" + std::string(text) + "'");
  std::sort(labels.begin(), labels.end(), [](const Label& a, const Label& b) { return a.name < b.name; });
  return seriesKey(name, labels);
}

Result<Seconds> parseTimestamp(std::string_view text) {
  std::string s = trim(text);
  if (auto v = parseValue(s); v && std::isfinite(*v)) return *v > kMillisecondsThreshold ? *v / 1000 : *v;
  // YYYY-MM-DD[T ]HH:MM:SS[.fff][Z|+HH:MM|-HH:MM]
  const int year = digits(s, 0, 4), month = digits(s, 5, 2), day = digits(s, 8, 2);
  const int hour = digits(s, 11, 2), minute = digits(s, 14, 2), second = digits(s, 17, 2);
  const bool shape = s.size() >= 19 && s[4] == '-' && s[7] == '-' && (s[10] == 'T' || s[10] == ' ') &&
                     s[13] == ':' && s[16] == ':';
  if (!shape || year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60)
    return makeError("expected a time in Unix seconds or ISO 8601 (2024-05-01T12:00:00Z), got '" + s + "'");
  std::size_t i = 19;
  double fraction = 0;
  if (i < s.size() && s[i] == '.') {
    std::size_t start = i;
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    auto f = parseValue("0" + s.substr(start, i - start));
    fraction = f.ok() ? *f : 0;
  }
  double offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    const int oh = digits(s, i + 1, 2), om = digits(s, i + 4, 2);
    if (oh < 0 || om < 0 || s.size() < i + 6 || s[i + 3] != ':')
      return makeError("expected a UTC offset like +02:00 in '" + s + "'");
    offset = (s[i] == '+' ? 1 : -1) * (oh * 3600.0 + om * 60.0);
    i += 6;
  } else if (i < s.size() && s[i] == 'Z') {
    ++i;
  }
  if (i != s.size()) return makeError("unexpected text after the time in '" + s + "'");
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return static_cast<double>(timegm(&tm)) + fraction - offset;
}

Result<Recording> parseRecording(std::string_view text, const std::string& name) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // a byte-order mark, as spreadsheets write
  std::size_t first = text.find_first_not_of(" \t\r\n");
  while (first != std::string_view::npos && text[first] == '#') {
    std::size_t nl = text.find('\n', first);
    first = nl == std::string_view::npos ? nl : text.find_first_not_of(" \t\r\n", nl);
  }
  if (first == std::string_view::npos) return makeError(name + ": empty recording");
  return text[first] == '{' ? parseJsonLines(text, name) : parseCsv(text, name);
}

Result<Recording> loadRecording(const std::string& file) {
  auto text = readTextFile(file);
  if (!text) return text.error();
  return parseRecording(*text, file);
}

}  // namespace trimtab::sim
