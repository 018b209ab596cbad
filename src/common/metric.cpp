// SPDX-License-Identifier: Apache-2.0
#include "common/metric.h"

#include <algorithm>
#include <array>
#include <cstring>

namespace trimtab {

std::string_view metricTypeName(MetricType type) {
  switch (type) {
    case MetricType::Unknown: return "unknown";
    case MetricType::Counter: return "counter";
    case MetricType::Gauge: return "gauge";
    case MetricType::Histogram: return "histogram";
    case MetricType::GaugeHistogram: return "gaugehistogram";
    case MetricType::Summary: return "summary";
    case MetricType::Info: return "info";
    case MetricType::StateSet: return "stateset";
  }
  return "unknown";
}

namespace {

constexpr std::array<bool, 256> kNeedsEscape = [] {
  std::array<bool, 256> t{};
  t['\\'] = t['"'] = t['\n'] = true;
  return t;
}();

bool needsEscape(std::string_view v) {
  bool any = false;
  for (char c : v) any |= kNeedsEscape[static_cast<unsigned char>(c)];
  return any;
}

void appendEscaped(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

// Label names of one series mostly differ in their first byte.
bool nameLess(std::string_view a, std::string_view b) {
  if (!a.empty() && !b.empty() && a[0] != b[0]) {
    return static_cast<unsigned char>(a[0]) < static_cast<unsigned char>(b[0]);
  }
  return a < b;
}

// Expositions carry a handful of labels per series: insertion sort beats
// std::sort there and never allocates.
void sortByName(LabelView* labels, std::size_t count) {
  for (std::size_t i = 1; i < count; ++i) {
    LabelView x = labels[i];
    std::size_t j = i;
    while (j > 0 && nameLess(x.name, labels[j - 1].name)) {
      labels[j] = labels[j - 1];
      --j;
    }
    labels[j] = x;
  }
}

char* put(char* d, std::string_view s) {
  std::memcpy(d, s.data(), s.size());
  return d + s.size();
}

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isLabelStart(char c) { return c != ':' && isNameStart(c); }
bool isLabelChar(char c) { return c != ':' && isNameChar(c); }

}  // namespace

bool isMetricName(std::string_view name) {
  return !name.empty() && isNameStart(name.front()) && std::all_of(name.begin(), name.end(), isNameChar);
}

bool isLabelName(std::string_view name) {
  return !name.empty() && isLabelStart(name.front()) && std::all_of(name.begin(), name.end(), isLabelChar);
}

void appendSeriesKey(std::string& out, std::string_view name, LabelView* labels, std::size_t count) {
  if (count == 0) {
    out.append(name);
    return;
  }
  sortByName(labels, count);
  // name{a="x",b="y"}: braces, count-1 commas, and =, " and " per label.
  std::size_t size = name.size() + 2 + (count - 1) + 3 * count;
  bool escapes = false;
  for (std::size_t i = 0; i < count; ++i) {
    size += labels[i].name.size() + labels[i].value.size();
    escapes |= needsEscape(labels[i].value);
  }
  if (!escapes) {
    // One resize (no allocation once `out` has capacity), then plain copies.
    const std::size_t at = out.size();
    out.resize(at + size);
    char* d = put(out.data() + at, name);
    *d++ = '{';
    for (std::size_t i = 0; i < count; ++i) {
      if (i) *d++ = ',';
      d = put(d, labels[i].name);
      *d++ = '=';
      *d++ = '"';
      d = put(d, labels[i].value);
      *d++ = '"';
    }
    *d = '}';
    return;
  }
  out.append(name);
  out.push_back('{');
  for (std::size_t i = 0; i < count; ++i) {
    if (i) out.push_back(',');
    out.append(labels[i].name);
    out.append("=\"");
    appendEscaped(out, labels[i].value);
    out.push_back('"');
  }
  out.push_back('}');
}

std::string seriesKey(std::string_view name, const Labels& labels) {
  std::vector<LabelView> views;
  views.reserve(labels.size());
  std::size_t bytes = name.size() + 2;
  for (const Label& l : labels) {
    views.push_back(LabelView{l.name, l.value});
    bytes += l.name.size() + l.value.size() + 4;
  }
  std::string out;
  out.reserve(bytes);
  appendSeriesKey(out, name, views.data(), views.size());
  return out;
}

bool parseSeriesKey(std::string_view key, std::string& name, Labels& labels) {
  labels.clear();
  std::size_t i = 0;
  const std::size_t n = key.size();
  if (n == 0 || !isNameStart(key[0])) return false;
  while (i < n && isNameChar(key[i])) ++i;
  name.assign(key.substr(0, i));
  if (i == n) return true;
  if (key[i] != '{') return false;
  ++i;
  while (true) {
    if (i >= n) return false;
    if (key[i] == '}') return i + 1 == n;
    if (!isLabelStart(key[i])) return false;
    std::size_t start = i;
    while (i < n && isLabelChar(key[i])) ++i;
    Label label;
    label.name.assign(key.substr(start, i - start));
    if (i + 1 >= n || key[i] != '=' || key[i + 1] != '"') return false;
    i += 2;
    while (true) {
      if (i >= n) return false;
      char c = key[i++];
      if (c == '"') break;
      if (c != '\\') {
        label.value.push_back(c);
        continue;
      }
      if (i >= n) return false;
      char e = key[i++];
      if (e == '\\' || e == '"') {
        label.value.push_back(e);
      } else if (e == 'n') {
        label.value.push_back('\n');
      } else {
        return false;
      }
    }
    labels.push_back(std::move(label));
    if (i >= n) return false;
    if (key[i] == ',') {
      ++i;
      if (i < n && key[i] == '}') return false;  // appendSeriesKey never writes a trailing comma
    } else if (key[i] != '}') {
      return false;
    }
  }
}

}  // namespace trimtab
