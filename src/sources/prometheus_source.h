// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <map>
#include <memory>
#include <string>

#include "common/config_node.h"
#include "common/result.h"
#include "sources/exposition_parser.h"
#include "sources/metric_source.h"

namespace trimtab {

struct PrometheusOptions {
  std::string url;          // http:// only
  bool openMetrics = true;  // ask for OpenMetrics first, Prometheus text as fallback
  // Extra request headers. A value "env:VAR" is read from the environment at
  // each collect (for secrets: the value is never logged nor kept here).
  std::map<std::string, std::string> headers;
  ExpositionLimits limits;
};

// Scrapes a Prometheus/OpenMetrics text endpoint over HTTP (kind
// "prometheus"). Samples keep the target's metric names and labels unchanged
// (canonical keys; see docs/metrics.md).
//
// collect(): one GET bounded by the source's timeout and limits.max_body;
// transport errors and non-2xx statuses fail the collection ("HTTP 503 from
// URL"); a malformed line becomes a warning "line N: ..." and the rest of the
// body is kept. Only the metric names the filter wants are parsed fully.
//
// Settings (params): url (required), openmetrics (bool, default true),
// headers (map), limits: {max_body, max_line, max_labels, max_series}.
// The factory does no I/O.
//
// Thread safety: collect() is not reentrant (the MetricSource contract); the
// parser's scratch buffers are reused across collects.
class PrometheusSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  PrometheusSource(SourceSpec spec, PrometheusOptions options);

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  SourceSpec spec_;
  PrometheusOptions options_;
  ExpositionParser parser_;
  // Sizes of the last batch, to reserve the next one in one allocation.
  std::size_t lastSamples_ = 0;
  std::size_t lastKeyBytes_ = 0;
};

}  // namespace trimtab
