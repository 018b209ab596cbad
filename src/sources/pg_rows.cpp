// SPDX-License-Identifier: Apache-2.0
#include "sources/pg_rows.h"

#include <charconv>

namespace trimtab {

void RowSink::add(std::string_view metric, MetricType type, double value, std::vector<LabelView> labels) {
  if (!filter.wants(metric)) {
    ++skipped;
    return;
  }
  batch.add(metric, labels.data(), labels.size(), type, value);
}

bool cellNumber(const std::optional<std::string>& cell, double& out) {
  if (!cell || cell->empty()) return false;
  const char* begin = cell->data();
  const char* end = begin + cell->size();
  auto [p, ec] = std::from_chars(begin, end, out);
  return ec == std::errc() && p == end;
}

bool anyWanted(const FamilyFilter& filter, std::span<const ColumnMetric> metrics) {
  for (const auto& m : metrics)
    if (filter.wants(m.metric)) return true;
  return false;
}

void addTableSamples(std::string_view what, const PgTable& table, std::span<const ColumnLabel> labels,
                     std::span<const ColumnMetric> metrics, RowSink& sink) {
  std::vector<int> labelIndex;
  for (const auto& l : labels) {
    int i = table.column(l.column);
    if (i < 0) {
      sink.warnings.push_back(std::string(what) + ": column '" + std::string(l.column) + "' missing");
      return;
    }
    labelIndex.push_back(i);
  }
  std::vector<int> metricIndex;
  for (const auto& m : metrics) {
    int i = table.column(m.column);
    if (i < 0 && sink.filter.wants(m.metric))
      sink.warnings.push_back(std::string(what) + ": column '" + std::string(m.column) + "' missing");
    metricIndex.push_back(i);
  }
  std::vector<LabelView> views(labels.size());
  for (std::size_t r = 0; r < table.rows.size(); ++r) {
    const auto& row = table.rows[r];
    if (row.size() != table.columns.size()) {
      sink.warnings.push_back(std::string(what) + " row " + std::to_string(r + 1) + ": wrong number of cells");
      continue;
    }
    for (std::size_t l = 0; l < labels.size(); ++l) {
      const auto& cell = row[static_cast<std::size_t>(labelIndex[l])];
      views[l] = LabelView{labels[l].label, cell ? std::string_view(*cell) : std::string_view()};
    }
    for (std::size_t m = 0; m < metrics.size(); ++m) {
      if (metricIndex[m] < 0) continue;
      const auto& cell = row[static_cast<std::size_t>(metricIndex[m])];
      if (!cell) continue;
      if (!sink.filter.wants(metrics[m].metric)) {
        ++sink.skipped;
        continue;
      }
      double v = 0;
      if (!cellNumber(cell, v)) {
        sink.warnings.push_back(std::string(what) + " row " + std::to_string(r + 1) + ": " +
                                std::string(metrics[m].column) + ": expected a number, got '" + *cell + "'");
        continue;
      }
      // add() sorts the labels in place: the same set, so later metrics of the row can reuse them.
      sink.batch.add(metrics[m].metric, views.data(), views.size(), metrics[m].type, v * metrics[m].scale);
    }
  }
}

}  // namespace trimtab
