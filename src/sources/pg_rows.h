// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/metric.h"
#include "common/pg_table.h"

namespace trimtab {

// A numeric column published as a metric (value × scale).
struct ColumnMetric {
  std::string_view column;
  std::string_view metric;
  MetricType type;
  double scale = 1;
};

// A text column published as a label.
struct ColumnLabel {
  std::string_view column;
  std::string_view label;
};

// Where the samples of a query go, and what was skipped or wrong.
struct RowSink {
  const FamilyFilter& filter;
  SampleBatch& batch;
  std::vector<std::string>& warnings;
  std::size_t skipped = 0;

  // Adds one sample, when the filter wants it.
  void add(std::string_view metric, MetricType type, double value, std::vector<LabelView> labels);
};

// One sample per row and metric, labelled with `labels`. `what` names the
// query in warnings ("SHOW POOLS: column 'cl_waiting' missing", "SHOW POOLS
// row 3: cl_waiting: expected a number, got 'x'"). A missing metric column
// warns once and is skipped; a missing label column skips the table with a
// warning. NULL cells are skipped silently.
void addTableSamples(std::string_view what, const PgTable& table, std::span<const ColumnLabel> labels,
                     std::span<const ColumnMetric> metrics, RowSink& sink);

// A cell as a number: false for NULL or text that is not one.
bool cellNumber(const std::optional<std::string>& cell, double& out);

// Whether any of `metrics` is wanted (a query nobody reads is not sent).
bool anyWanted(const FamilyFilter& filter, std::span<const ColumnMetric> metrics);

}  // namespace trimtab
