// SPDX-License-Identifier: Apache-2.0
#include "policy/metric_query.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <limits>

#include "common/units.h"

namespace trimtab {
namespace {

const char* opText(LabelMatcher::Op op) {
  switch (op) {
    case LabelMatcher::Op::Equal: return "=";
    case LabelMatcher::Op::NotEqual: return "!=";
    case LabelMatcher::Op::Regex: return "=~";
    case LabelMatcher::Op::NotRegex: return "!~";
  }
  return "=";
}

void appendQuoted(std::string& out, const std::string& value) {
  out.push_back('"');
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out.push_back('\\');
      out.push_back(c);
    } else if (c == '\n') {
      out.append("\\n");
    } else {
      out.push_back(c);
    }
  }
  out.push_back('"');
}

// Stats of points that may come from several series (not in time order).
WindowStats poolStats(const std::vector<Point>& points) {
  WindowStats w;
  double mean = 0, m2 = 0, sum = 0;
  Seconds firstT = std::numeric_limits<double>::infinity();
  Seconds lastT = -std::numeric_limits<double>::infinity();
  for (const Point& p : points) {
    if (std::isnan(p.v)) continue;
    if (w.count == 0) {
      w.min = w.max = p.v;
    } else {
      w.min = std::min(w.min, p.v);
      w.max = std::max(w.max, p.v);
    }
    if (p.t < firstT) firstT = p.t, w.first = p.v;
    if (p.t >= lastT) lastT = p.t, w.last = p.v;
    ++w.count;
    sum += p.v;
    double delta = p.v - mean;
    mean += delta / static_cast<double>(w.count);
    m2 += delta * (p.v - mean);
  }
  if (w.count == 0) return w;
  w.sum = sum;
  w.avg = sum / static_cast<double>(w.count);
  w.stddev = std::sqrt(std::max(0.0, m2 / static_cast<double>(w.count)));
  return w;
}

// Same interpolation as SeriesStore::quantile.
double sortedQuantile(std::vector<double>& values, double q) {
  if (values.empty() || !(q >= 0 && q <= 1)) return NAN;
  std::sort(values.begin(), values.end());
  double pos = q * static_cast<double>(values.size() - 1);
  auto lo = static_cast<std::size_t>(std::floor(pos));
  std::size_t hi = std::min(lo + 1, values.size() - 1);
  double frac = pos - static_cast<double>(lo);
  return frac == 0 ? values[lo] : values[lo] + (values[hi] - values[lo]) * frac;
}

}  // namespace

std::optional<Aggregation> parseAggregation(std::string_view name) {
  if (name == "sum") return Aggregation::Sum;
  if (name == "avg") return Aggregation::Avg;
  if (name == "max") return Aggregation::Max;
  if (name == "min") return Aggregation::Min;
  return std::nullopt;
}

const char* aggregationName(Aggregation agg) {
  switch (agg) {
    case Aggregation::Sum: return "sum";
    case Aggregation::Avg: return "avg";
    case Aggregation::Max: return "max";
    case Aggregation::Min: return "min";
  }
  return "sum";
}

std::string MetricQuery::selector() const {
  std::string out = metric;
  if (matchers.empty()) return out;
  out.push_back('{');
  for (std::size_t i = 0; i < matchers.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(matchers[i].name).append(opText(matchers[i].op));
    appendQuoted(out, matchers[i].value);
  }
  out.push_back('}');
  return out;
}

std::string describeRead(const MetricQuery& q, const char* function) {
  std::string out = q.selector();
  if (q.window > 0) out += "[" + formatDuration(q.window) + "]";
  if (std::strcmp(function, "quantile") == 0) {
    char number[32];
    std::snprintf(number, sizeof number, "%g", q.q);
    out = "quantile(" + std::string(number) + ", " + out + ")";
  } else if (std::strcmp(function, "value") != 0) {
    out = std::string(function) + "(" + out + ")";
  }
  if (q.agg != Aggregation::Sum) out = std::string(aggregationName(q.agg)) + "(" + out + ")";
  return out;
}

const std::vector<SeriesId>& MetricReader::select(const SeriesStore& store, const MetricQuery& query) {
  store.selectInto(query.metric, query.matchers, ids_);
  return ids_;
}

void MetricReader::markStale(const SeriesStore& store, ReadOutcome& out) const {
  out.series = ids_.size();
  for (SeriesId id : ids_) {
    if (store.isStale(id)) {
      out.stale = true;
      return;
    }
  }
}

template <class PerSeries>
ReadOutcome MetricReader::combine(const SeriesStore& store, const MetricQuery& query,
                                  PerSeries&& perSeries) {
  ReadOutcome out;
  select(store, query);
  markStale(store, out);
  double acc = 0;
  std::size_t used = 0;
  for (SeriesId id : ids_) {
    std::optional<double> v = perSeries(id);
    if (!v || std::isnan(*v)) continue;
    if (used == 0) {
      acc = *v;
    } else if (query.agg == Aggregation::Max) {
      acc = std::max(acc, *v);
    } else if (query.agg == Aggregation::Min) {
      acc = std::min(acc, *v);
    } else {
      acc += *v;
    }
    ++used;
  }
  if (used == 0) return out;
  out.missing = false;
  out.value = query.agg == Aggregation::Avg ? acc / static_cast<double>(used) : acc;
  return out;
}

ReadOutcome MetricReader::value(const SeriesStore& store, const MetricQuery& query) {
  return combine(store, query, [&](SeriesId id) -> std::optional<double> {
    Latest latest = store.latest(id);
    if (!latest.found) return std::nullopt;
    return latest.value;
  });
}

ReadOutcome MetricReader::rate(const SeriesStore& store, const MetricQuery& query, Seconds now) {
  return combine(store, query, [&](SeriesId id) { return store.rate(id, now - query.window, now); });
}

ReadOutcome MetricReader::increase(const SeriesStore& store, const MetricQuery& query, Seconds now) {
  return combine(store, query, [&](SeriesId id) { return store.increase(id, now - query.window, now); });
}

ReadOutcome MetricReader::window(const SeriesStore& store, const MetricQuery& query, Seconds now,
                                 WindowStats& stats) {
  ReadOutcome out;
  select(store, query);
  markStale(store, out);
  if (ids_.size() == 1) {
    stats = store.stats(ids_[0], now - query.window, now);
  } else {
    points_.clear();
    for (SeriesId id : ids_) store.points(id, now - query.window, now, points_);
    stats = poolStats(points_);
  }
  if (stats.count == 0) return out;
  out.missing = false;
  out.value = stats.avg;
  return out;
}

ReadOutcome MetricReader::quantile(const SeriesStore& store, const MetricQuery& query, Seconds now) {
  ReadOutcome out;
  select(store, query);
  markStale(store, out);
  if (ids_.size() == 1) {
    out.value = store.quantile(ids_[0], now - query.window, now, query.q);
  } else {
    points_.clear();
    for (SeriesId id : ids_) store.points(id, now - query.window, now, points_);
    values_.clear();
    for (const Point& p : points_) {
      if (!std::isnan(p.v)) values_.push_back(p.v);
    }
    out.value = sortedQuantile(values_, query.q);
  }
  out.missing = std::isnan(out.value);
  return out;
}

}  // namespace trimtab
