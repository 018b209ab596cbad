// SPDX-License-Identifier: Apache-2.0
#include "sources/promql_source.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <charconv>
#include <cmath>
#include <exception>
#include <limits>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/http_client.h"
#include "common/secret.h"
#include "common/units.h"
#include "sources/source_params.h"

namespace trimtab {

TRIMTAB_REGISTER(SourceRegistry, "promql", PromqlSource::create);

namespace {

constexpr std::string_view kQueryPath = "/api/v1/query";
constexpr std::size_t kMaxBodyExcerpt = 200;

// Prometheus writes sample values as strings: "1.5", "NaN", "+Inf", "-Inf".
bool parseValue(std::string_view s, double& out) {
  if (auto special = parseNonFinite(s)) {
    out = *special;
    return true;
  }
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

bool addSample(const nlohmann::json& pair, std::string_view name, std::vector<LabelView>& labels, SampleBatch& out) {
  if (!pair.is_array() || pair.size() != 2 || !pair[1].is_string()) return false;
  double v = 0;
  if (!parseValue(pair[1].get_ref<const std::string&>(), v)) return false;
  out.add(name, labels.data(), labels.size(), MetricType::Gauge, v);
  return true;
}

// obj[key] when it is a string, else `otherwise`: nlohmann's value() throws
// on a field of another type, and an answer is not trusted input.
std::string stringField(const nlohmann::json& obj, const char* key, const char* otherwise) {
  const auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : otherwise;
}

std::string excerptOf(std::string_view body) {
  std::string out(body.substr(0, kMaxBodyExcerpt));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return out;
}

}  // namespace

std::string urlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status parsePromqlAnswer(std::string_view body, std::string_view name, SampleBatch& out,
                         std::vector<std::string>& warnings) {
  nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return makeError("not a JSON answer: '" + excerptOf(body) + "'");
  const std::string status = stringField(j, "status", "");
  if (status != "success") {
    const std::string type = stringField(j, "errorType", "error");
    const std::string error = stringField(j, "error", "no error message");
    return makeError(excerptOf(type) + ": " + excerptOf(error));
  }
  const auto data = j.find("data");
  if (data == j.end() || !data->is_object()) return makeError("answer without data");
  const std::string resultType = stringField(*data, "resultType", "");
  const auto result = data->find("result");
  if (result == data->end()) return makeError("answer without data.result");
  std::vector<LabelView> labels;
  if (resultType == "scalar") {
    if (!addSample(*result, name, labels, out)) return makeError("malformed scalar");
    return Status::success();
  }
  if (resultType != "vector")
    return makeError("result type '" + resultType + "' is not supported (use an instant vector or scalar expression)");
  if (!result->is_array()) return makeError("data.result is not a list");
  std::size_t index = 0;
  for (const auto& series : *result) {
    ++index;
    labels.clear();
    const auto metric = series.find("metric");
    const auto value = series.find("value");
    bool ok = metric != series.end() && metric->is_object() && value != series.end();
    std::optional<std::string> badLabel;  // "" is a bad name too
    if (ok) {
      for (const auto& [k, v] : metric->items()) {
        if (k == "__name__") continue;
        if (!isLabelName(k)) {
          badLabel = k;
          break;
        }
        if (!v.is_string()) {
          ok = false;
          break;
        }
        labels.push_back(LabelView{k, v.get_ref<const std::string&>()});
      }
    }
    if (badLabel) {
      // Prometheus 3 allows any UTF-8 label name ("service.name"); a policy's
      // label matchers and series keys take the classic syntax only.
      warnings.push_back("series " + std::to_string(index) + " of '" + std::string(name) + "' skipped: label name '" +
                         excerptOf(*badLabel) + "' is not [a-zA-Z_][a-zA-Z0-9_]* (rename it in the query with label_replace)");
    } else if (!ok || !addSample(*value, name, labels, out)) {
      warnings.push_back("series " + std::to_string(index) + " of '" + std::string(name) + "' is malformed");
    }
  }
  return Status::success();
}

Result<std::unique_ptr<MetricSource>> PromqlSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  PromqlOptions o;
  if (auto url = params.requiredString("url")) {
    o.url = *url;
    while (!o.url.empty() && o.url.back() == '/') o.url.pop_back();
    if (o.url.find_first_of("?#") != std::string::npos) params.error("url", "expected the server's base URL, without a query");
    else if (auto parsed = parseHttpUrl(o.url); !parsed) params.error("url", parsed.error().message);
  }
  auto list = params.childList("queries");
  if (list.empty()) params.error("queries", "expected a list of {name, query}");
  if (list.size() > kPromqlMaxQueries) params.error("queries", "at most " + std::to_string(kPromqlMaxQueries) + " queries");
  for (auto& q : list) {
    PromqlQuery query;
    if (auto name = q.requiredString("name")) {
      query.name = *name;
      if (!isMetricName(query.name)) q.error("name", "expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*), got '" + *name + "'");
      for (const auto& other : o.queries)
        if (other.name == query.name) q.error("name", "'" + query.name + "' is used by another query");
    }
    if (auto text = q.requiredString("query")) {
      query.query = *text;
      if (query.query.empty()) q.error("query", "expected a PromQL expression");
    }
    q.finish();
    o.queries.push_back(std::move(query));
  }
  o.headers = params.getStringMap("headers");
  for (const auto& [name, value] : o.headers) {
    if (name.empty() || name.find_first_of(":\r\n ") != std::string::npos) params.error("headers", "invalid header name '" + name + "'");
    if (value.find_first_of("\r\n") != std::string::npos) params.error("headers", "header '" + name + "' has a line break");
    if (value.rfind("env:", 0) == 0)
      if (auto ref = parseSecretRef(value, false); !ref) params.error("headers", "header '" + name + "': " + ref.error().message);
  }
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<PromqlSource>(spec, std::move(o)));
}

PromqlSource::PromqlSource(SourceSpec spec, PromqlOptions options) : spec_(std::move(spec)), options_(std::move(options)) {}

CollectResult PromqlSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  CollectResult out;
  try {
    std::map<std::string, std::string> headers;
    for (const auto& [name, value] : options_.headers) {
      if (value.rfind("env:", 0) != 0) {
        headers[name] = value;
        continue;
      }
      auto secret = readSecret(*parseSecretRef(value, false));
      if (!secret) {
        out.status = makeError("header '" + name + "': " + secret.error().message);
        break;
      }
      headers[name] = *secret;
    }
    std::size_t asked = 0, failed = 0;
    for (const auto& q : options_.queries) {
      if (!out.status.ok()) break;
      if (!filter.wants(q.name)) {
        ++out.skippedSamples;
        continue;
      }
      ++asked;
      Seconds left = spec_.timeout - elapsed();
      if (left <= 0) {
        out.status = makeError("promql: the timeout of " + std::to_string(spec_.timeout) + "s ran out before query '" + q.name + "'");
        break;
      }
      HttpRequest request;
      request.url = options_.url + std::string(kQueryPath) + "?query=" + urlEncode(q.query);
      request.timeout = left;
      request.maxBodyBytes = kPromqlMaxBody;
      request.headers = headers;
      request.headers["Accept"] = "application/json";
      auto response = httpExchange(request);
      if (!response) {
        out.status = makeError("promql: " + response.error().message);
        break;
      }
      if (response->status >= 500) {
        out.status = makeError("promql: HTTP " + std::to_string(response->status) + " from " + redactUrl(options_.url));
        break;
      }
      Status parsed = parsePromqlAnswer(response->body, q.name, out.batch, out.warnings);
      if (!parsed.ok()) {
        ++failed;
        out.warnings.push_back("query '" + q.name + "' (HTTP " + std::to_string(response->status) + "): " + parsed.error().message);
      }
    }
    if (out.status.ok() && asked > 0 && failed == asked)
      out.status = makeError("promql: every query failed; first: " + out.warnings.front());
  } catch (const std::exception& e) {
    out.status = makeError("promql " + redactUrl(options_.url) + ": " + e.what());
  }
  if (!out.status.ok()) out.batch.clear();
  out.duration = elapsed();
  return out;
}

}  // namespace trimtab
