// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/config_node.h"
#include "common/metric.h"
#include "common/registry.h"
#include "common/result.h"

namespace trimtab {

// What one collection produced. `status` not ok means the source is down for
// this collection (connection refused, timeout, HTTP 500, body too large): the
// controller then counts a scrape in which no series was seen. Per-line
// problems of a body that was read go to `warnings`, and the rest is kept.
struct CollectResult {
  Status status;
  SampleBatch batch;
  std::vector<std::string> warnings;  // "line 12: invalid value 'abc'"
  std::size_t skippedSamples = 0;     // not wanted by the filter
  Seconds duration = 0;               // wall time of the collection
};

// A metric input: a Prometheus endpoint, /proc, Redis INFO, a simulator model.
//
// Contract:
// - collect() may block on I/O; the live loop calls it on a worker thread,
//   never on the tick, and never runs two collect() of one source at once.
//   It must return within the source's own timeout.
// - collect() must not throw; failures are reported in CollectResult::status.
// - Factories read settings only: no I/O, no connection (so `trimtab check`
//   can build every source without reaching servers).
class MetricSource {
 public:
  virtual ~MetricSource() = default;
  // `filter` says which metric names policies read; a source may use it to
  // skip work (the exposition parser does), or ignore it.
  virtual CollectResult collect(const FamilyFilter& filter) = 0;
};

// Common settings every source has; the kind-specific ones stay in `params`.
struct SourceSpec {
  std::string name;     // unique, used in logs, journal and own metrics
  std::string kind;     // registry name: "prometheus", "procfs", ...
  Seconds interval = 10;
  Seconds timeout = 5;
};

using SourceFactory = Result<std::unique_ptr<MetricSource>>(const SourceSpec& spec,
                                                            ConfigNode& params);
struct SourceRegistryTag {};
using SourceRegistry = Registry<SourceRegistryTag, SourceFactory>;

}  // namespace trimtab
