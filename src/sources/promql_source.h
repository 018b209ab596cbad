// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/config_node.h"
#include "common/result.h"
#include "sources/metric_source.h"

namespace trimtab {

inline constexpr std::size_t kPromqlMaxBody = 8u << 20;   // an instant vector for one sidecar stays small
inline constexpr std::size_t kPromqlMaxQueries = 100;

// One instant query and the metric name its answer is stored under.
struct PromqlQuery {
  std::string name;   // name: metric name of the samples
  std::string query;  // query: PromQL expression
};

struct PromqlOptions {
  std::string url;  // url: the Prometheus server, http://host:port (no TLS)
  std::vector<PromqlQuery> queries;
  // headers: extra request headers; "env:NAME" values are read at each collect.
  std::map<std::string, std::string> headers;
};

// Fleet-level inputs from a Prometheus server (kind "promql"): each
// configured instant query is sent to /api/v1/query, and each series of its
// answer becomes a sample under the query's `name`, with the series' labels
// (without __name__); a scalar answer is one sample without labels.
//
// collect(): one GET per query whose name some policy reads, sequentially,
// all within the source's timeout. A transport error or a 5xx fails the
// collection (the server is down); a query the server rejects (400, "status":
// "error") becomes a warning naming the query, and the others are kept,
// unless every query failed.
class PromqlSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  PromqlSource(SourceSpec spec, PromqlOptions options);

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  SourceSpec spec_;
  PromqlOptions options_;
};

// Parses one /api/v1/query answer: success adds its samples under `name`;
// an API error ("bad_data: parse error ...") or a result type other than
// vector or scalar is an Error. A malformed series is skipped with a warning.
Status parsePromqlAnswer(std::string_view body, std::string_view name, SampleBatch& out,
                         std::vector<std::string>& warnings);

// Percent-encodes a query parameter value (RFC 3986 unreserved kept).
std::string urlEncode(std::string_view text);

}  // namespace trimtab
