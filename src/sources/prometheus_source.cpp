// SPDX-License-Identifier: Apache-2.0
#include "sources/prometheus_source.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <string_view>

#include "common/http_client.h"
#include "sources/source_params.h"

namespace trimtab {

namespace {

constexpr const char* kAcceptOpenMetrics =
    "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
constexpr const char* kAcceptText = "text/plain;version=0.0.4";
constexpr std::string_view kEnvPrefix = "env:";
// A body past this would overflow the batch's 32-bit key offsets long before
// it made sense for a sidecar; max_body must stay under it.
constexpr std::uint64_t kMaxBodyCeiling = 1ull << 30;
// A garbage body can have a bad line per line; a few are enough to debug it.
constexpr std::size_t kMaxWarnings = 50;

bool isTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool isEnvName(std::string_view s) {
  if (s.empty() || std::isdigit(static_cast<unsigned char>(s.front()))) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

void readLimits(ConfigNode& params, ExpositionLimits& limits) {
  if (!params.has("limits")) return;
  ConfigNode node = params.child("limits");
  if (!node.isMap()) {
    params.error("limits", "expected a mapping with max_body, max_line, max_labels, max_series");
    return;
  }
  auto positiveSize = [&](const char* key, std::size_t& out, std::uint64_t ceiling) {
    if (!node.has(key)) return;
    ParamsCheck check(node);
    std::uint64_t v = node.getSize(key, out);
    if (check.failed()) return;
    if (v == 0 || v > ceiling) {
      node.error(key, "expected a size from 1B to " + std::to_string(ceiling) + " bytes, got " + std::to_string(v));
      return;
    }
    out = static_cast<std::size_t>(v);
  };
  auto positiveCount = [&](const char* key, std::size_t& out) {
    if (!node.has(key)) return;
    ParamsCheck check(node);
    std::int64_t v = node.getInteger(key, static_cast<std::int64_t>(out));
    if (check.failed()) return;
    if (v <= 0) {
      node.error(key, "expected a positive integer, got " + std::to_string(v));
      return;
    }
    out = static_cast<std::size_t>(v);
  };
  positiveSize("max_body", limits.maxBodyBytes, kMaxBodyCeiling);
  positiveSize("max_line", limits.maxLineBytes, kMaxBodyCeiling);
  positiveCount("max_labels", limits.maxLabelsPerSeries);
  positiveCount("max_series", limits.maxSeriesPerScrape);
  node.finish();
}

}  // namespace

Result<std::unique_ptr<MetricSource>> PrometheusSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  PrometheusOptions options;
  if (auto url = params.requiredString("url")) {
    options.url = *url;
    if (auto parsed = parseHttpUrl(*url); !parsed) params.error("url", parsed.error().message);
  }
  options.openMetrics = params.getBool("openmetrics", true);
  options.headers = params.getStringMap("headers");
  for (const auto& [name, value] : options.headers) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), isTokenChar)) {
      params.error("headers", "invalid header name '" + name + "'");
    }
    if (value.find_first_of("\r\n") != std::string::npos) {
      params.error("headers", "header '" + name + "' has a line break in its value");
    } else if (std::string_view(value).substr(0, kEnvPrefix.size()) == kEnvPrefix &&
               !isEnvName(std::string_view(value).substr(kEnvPrefix.size()))) {
      params.error("headers", "header '" + name + "': expected env:VARIABLE_NAME");
    }
  }
  readLimits(params, options.limits);
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<PrometheusSource>(spec, std::move(options)));
}

PrometheusSource::PrometheusSource(SourceSpec spec, PrometheusOptions options)
    : spec_(std::move(spec)), options_(std::move(options)), parser_(options_.limits) {}

CollectResult PrometheusSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  CollectResult out;
  try {
    HttpRequest request;
    request.url = options_.url;
    request.timeout = spec_.timeout;
    request.maxBodyBytes = options_.limits.maxBodyBytes;
    request.acceptGzip = true;
    request.headers["Accept"] = options_.openMetrics ? kAcceptOpenMetrics : kAcceptText;
    for (const auto& [name, value] : options_.headers) {
      std::string_view v(value);
      if (v.substr(0, kEnvPrefix.size()) != kEnvPrefix) {
        request.headers[name] = value;
        continue;
      }
      std::string var(v.substr(kEnvPrefix.size()));
      const char* secret = std::getenv(var.c_str());
      if (!secret) {
        out.status = makeError("header '" + name + "': environment variable " + var + " is not set");
        break;
      }
      request.headers[name] = secret;
    }
    if (out.status.ok()) {
      auto response = httpExchange(request);
      if (!response) {
        out.status = response.error();
      } else if (response->status < 200 || response->status > 299) {
        out.status = makeError("HTTP " + std::to_string(response->status) + " from " + redactUrl(options_.url));
      } else {
        out.batch.reserve(lastSamples_, lastKeyBytes_);
        ExpositionStats stats = parser_.parseInto(response->body, formatFromContentType(response->contentType),
                                                  filter, out.batch);
        std::size_t shown = std::min(stats.errors.size(), kMaxWarnings);
        for (std::size_t i = 0; i < shown; ++i) {
          out.warnings.push_back("line " + std::to_string(stats.errors[i].line) + ": " + stats.errors[i].message);
        }
        if (stats.errors.size() > shown) {
          out.warnings.push_back("... and " + std::to_string(stats.errors.size() - shown) + " more bad lines");
        }
        if (stats.samplesDropped > 0) {
          out.warnings.push_back(std::to_string(stats.samplesDropped) + " samples dropped: more than max_series (" +
                                 std::to_string(options_.limits.maxSeriesPerScrape) + ") in one scrape");
        }
        out.skippedSamples = stats.samplesSkipped;
        // Only bad lines (an HTML error page, a wrong path): the target
        // answered, but trimtab sees nothing of it, which is a failed
        // scrape (trimtab_source_up 0), not an up target with no samples.
        // (Most lines rejected: a target that only exposes metadata with one
        // bad line is still up.)
        const std::size_t rejected = stats.rejectedLines();
        if (out.batch.empty() && stats.samplesSkipped == 0 && stats.samplesDropped == 0 && !stats.errors.empty() &&
            2 * rejected > stats.lines) {
          const ExpositionError& first = stats.errors[0];
          out.status = makeError(fmt::format("no sample in the answer of {}: {} of its {} lines rejected (first: {}{})",
                                             redactUrl(options_.url), rejected, stats.lines,
                                             first.line > 0 ? fmt::format("line {}: ", first.line) : "",
                                             first.message));
          out.warnings.clear();
        }
        lastSamples_ = out.batch.size();
        if (!out.batch.empty()) {
          const auto& last = out.batch.entry(out.batch.size() - 1);
          lastKeyBytes_ = last.keyOffset + last.keyLength;
        }
      }
    }
  } catch (const std::exception& e) {
    out.status = makeError("scrape of " + redactUrl(options_.url) + ": " + e.what());
  }
  if (!out.status.ok()) out.batch.clear();
  out.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

TRIMTAB_REGISTER(SourceRegistry, "prometheus", PrometheusSource::create);

}  // namespace trimtab
