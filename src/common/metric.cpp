// SPDX-License-Identifier: Apache-2.0
#include "common/metric.h"

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

bool needsEscape(std::string_view v) {
  for (char c : v) {
    if (c == '\\' || c == '"' || c == '\n') return true;
  }
  return false;
}

void appendEscaped(std::string& out, std::string_view v) {
  if (!needsEscape(v)) {
    out.append(v);
    return;
  }
  for (char c : v) {
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '"': out.append("\\\""); break;
      case '\n': out.append("\\n"); break;
      default: out.push_back(c);
    }
  }
}

// Expositions carry a handful of labels per series: insertion sort beats
// std::sort there and never allocates.
void sortByName(LabelView* labels, std::size_t count) {
  for (std::size_t i = 1; i < count; ++i) {
    LabelView x = labels[i];
    std::size_t j = i;
    while (j > 0 && x.name < labels[j - 1].name) {
      labels[j] = labels[j - 1];
      --j;
    }
    labels[j] = x;
  }
}

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}
bool isNameChar(char c) { return isNameStart(c) || (c >= '0' && c <= '9'); }
bool isLabelStart(char c) { return c != ':' && isNameStart(c); }
bool isLabelChar(char c) { return c != ':' && isNameChar(c); }

}  // namespace

void appendSeriesKey(std::string& out, std::string_view name, LabelView* labels, std::size_t count) {
  out.append(name);
  if (count == 0) return;
  sortByName(labels, count);
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
