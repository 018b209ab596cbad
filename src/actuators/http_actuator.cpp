// SPDX-License-Identifier: Apache-2.0
#include "actuators/http_actuator.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "actuators/actuator_support.h"
#include "common/http_client.h"
#include "common/secret.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "http", HttpActuator::create);

namespace {

using namespace actuator_support;

constexpr std::size_t kMaxResponseBytes = 64u << 10;  // a knob endpoint answers briefly
constexpr std::size_t kResponseExcerptBytes = 120;
constexpr std::string_view kEnvPrefix = "env:";

Seconds steadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void realSleep(Seconds s) {
  if (s > 0) std::this_thread::sleep_for(std::chrono::duration<double>(s));
}

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
  });
}

// The URL without userinfo, query or fragment: what details may show.
std::string displayUrl(const std::string& url) {
  std::string out = url.substr(0, url.find_first_of("?#"));
  auto scheme = out.find("://");
  std::size_t hostStart = scheme == std::string::npos ? 0 : scheme + 3;
  auto at = out.find('@', hostStart);
  auto slash = out.find('/', hostStart);
  if (at != std::string::npos && (slash == std::string::npos || at < slash)) out.erase(hostStart, at + 1 - hostStart);
  return out;
}

// "12:00:35Z": the wall-clock time `remaining` seconds from now, for humans.
std::string wallTimeIn(Seconds remaining) {
  std::time_t t = std::time(nullptr) + static_cast<std::time_t>(std::ceil(std::max(0.0, remaining)));
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:02}:{:02}:{:02}Z", tm.tm_hour, tm.tm_min, tm.tm_sec);
}

nlohmann::json jsonNumber(double v) {
  constexpr double kExactIntegerLimit = 9007199254740992.0;  // 2^53
  if (std::isfinite(v) && v == std::trunc(v) && std::fabs(v) < kExactIntegerLimit)
    return static_cast<std::int64_t>(v);
  return v;
}

bool hasControlChars(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return c == '\r' || c == '\n' || c == '\0'; });
}

}  // namespace

HttpActuator::HttpActuator(HttpActuatorOptions options, std::function<Seconds()> now,
                           std::function<void(Seconds)> sleep)
    : options_(std::move(options)),
      displayUrl_(displayUrl(options_.url)),
      now_(std::move(now)),
      sleep_(std::move(sleep)) {}

Result<HttpActuatorOptions> HttpActuator::parseOptions(ConfigNode& params) {
  std::size_t before = diagnosticCount(params);
  HttpActuatorOptions o;
  if (auto url = params.requiredString("url")) {
    o.url = *url;
    if (o.url.rfind("http://", 0) != 0) {
      params.error("url", "expected an http:// URL (https is not supported), got '" + displayUrl(o.url) + "'");
    } else if (auto parsed = parseHttpUrl(o.url); !parsed) {
      params.error("url", parsed.error().message);
    }
  }
  o.method = params.getEnum("method", {"POST", "PUT"}, o.method);
  o.timeout = params.getDuration("timeout", o.timeout);
  if (!(o.timeout > 0 && o.timeout <= kHttpActuatorMaxTimeout))
    params.error("timeout", fmt::format("expected a duration above 0 and at most {}s", kHttpActuatorMaxTimeout));
  o.retries = intSetting(params, "retries", o.retries, 0, kHttpActuatorMaxRetries);
  o.backoff = params.getDuration("backoff", o.backoff);
  if (!(o.backoff >= 0 && o.backoff <= kHttpActuatorMaxBackoff))
    params.error("backoff", fmt::format("expected a duration from 0 to {}s", kHttpActuatorMaxBackoff));
  o.headers = params.getStringMap("headers");
  for (const auto& [name, value] : o.headers) {
    if (name.empty() || hasControlChars(name) || name.find(':') != std::string::npos)
      params.error("headers", "invalid header name '" + name + "'");
    if (hasControlChars(value)) params.error("headers", "header '" + name + "': value contains a line break");
    if (value.rfind(kEnvPrefix, 0) == 0 && value.size() == kEnvPrefix.size())
      params.error("headers", "header '" + name + "': expected env:VARIABLE_NAME");
  }
  if (params.has("body")) o.body = params.getString("body");
  std::string expect = params.getString("expect_status", "2xx");
  if (expect != "2xx") {
    char* end = nullptr;
    long code = std::strtol(expect.c_str(), &end, 10);
    if (expect.empty() || *end != '\0' || code < 100 || code > 599)
      params.error("expect_status", "expected '2xx' or one status code like 204, got '" + expect + "'");
    else
      o.expectStatus = static_cast<int>(code);
  }
  o.breakerFailures = intSetting(params, "breaker_failures", o.breakerFailures, 1, std::numeric_limits<int>::max());
  o.breakerOpen = params.getDuration("breaker_open", o.breakerOpen);
  if (!(o.breakerOpen > 0)) params.error("breaker_open", "expected a duration above 0");
  params.finish();
  if (auto status = newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> HttpActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(
      std::make_unique<HttpActuator>(std::move(*options), steadyNow, realSleep));
}

std::string HttpActuator::renderBody(const ActuationRequest& request) const {
  if (options_.body) return substitute(*options_.body, request);
  nlohmann::json body = {{"knob", request.knob},
                         {"value", jsonNumber(request.value)},
                         {"previous", jsonNumber(request.previous)},
                         {"reason", request.reason}};
  // A reason is policy text: never let invalid UTF-8 throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

HttpActuator::Attempt HttpActuator::attempt(const std::string& body,
                                            const std::map<std::string, std::string>& headers) {
  HttpRequest request;
  request.method = options_.method;
  request.url = options_.url;
  request.headers = headers;
  request.body = body;
  request.timeout = options_.timeout;
  request.maxBodyBytes = kMaxResponseBytes;
  request.acceptGzip = false;
  // The status decides; a body that could not be read does not make a POST
  // that took effect worth sending again.
  request.statusOnBodyError = true;
  auto response = httpExchange(request);
  if (!response) {
    // The client names the URL without userinfo; drop the query too, which
    // may carry a token.
    std::string message = response.error().message;
    if (auto q = options_.url.find_first_of("?#"); q != std::string::npos) {
      const std::string query = options_.url.substr(q);
      for (auto at = message.find(query); at != std::string::npos; at = message.find(query)) message.erase(at, query.size());
    }
    return {false, true, message};
  }
  int status = response->status;
  bool ok = options_.expectStatus ? status == options_.expectStatus : status >= 200 && status < 300;
  std::string detail = fmt::format("HTTP {} from {}", status, displayUrl_);
  if (!response->bodyError.empty()) detail += " (response body not read: " + response->bodyError + ")";
  if (ok) return {true, false, detail};
  if (std::string text = excerpt(response->body, kResponseExcerptBytes); !text.empty()) detail += ": " + text;
  return {false, status >= 500 || status == 408 || status == 429, detail};
}

ActuationOutcome HttpActuator::apply(const ActuationRequest& request) {
  std::lock_guard lock(breakerMu_);
  const Seconds start = now_();
  ActuationOutcome outcome;
  if (openUntil_ && start < *openUntil_) {
    outcome.detail = fmt::format("circuit open until {} ({:.1f}s left) after {} consecutive failures of {}",
                                 wallTimeIn(*openUntil_ - start), *openUntil_ - start,
                                 consecutiveFailures_, displayUrl_);
    return outcome;
  }
  const bool halfOpen = openUntil_.has_value();

  // Secrets are read at apply time (rotation works) and never logged.
  std::map<std::string, std::string> headers;
  std::vector<std::string> secrets;
  bool hasContentType = false;
  for (const auto& [name, value] : options_.headers) {
    hasContentType = hasContentType || iequals(name, "content-type");
    if (value.rfind(kEnvPrefix, 0) != 0) {
      headers[name] = value;
      continue;
    }
    std::string variable = value.substr(kEnvPrefix.size());
    const char* secret = std::getenv(variable.c_str());
    if (!secret) {
      outcome.detail = "header '" + name + "': environment variable " + variable + " is not set";
      return outcome;
    }
    headers[name] = secret;
    if (*secret) secrets.emplace_back(secret);
  }
  std::string body = renderBody(request);
  if (!hasContentType) {
    auto first = body.find_first_not_of(" \t\r\n");
    bool json = !options_.body || (first != std::string::npos && (body[first] == '{' || body[first] == '['));
    headers["Content-Type"] = json ? "application/json" : "text/plain; charset=utf-8";
  }

  const int maxAttempts = halfOpen ? 1 : options_.retries + 1;
  Seconds delay = options_.backoff;
  Attempt last;
  for (int i = 0; i < maxAttempts; ++i) {
    if (i > 0) {
      sleep_(delay);
      delay *= 2;
    }
    last = attempt(body, headers);
    outcome.attempts = i + 1;
    if (last.ok || !last.retryable) break;
  }
  outcome.latency = now_() - start;
  outcome.detail = last.detail;
  // redactSecret searches on past each replacement: a secret such as "t"
  // is also found inside "<redacted>", and searching again from the start
  // spun for ever.
  for (const auto& secret : secrets) redactSecret(outcome.detail, secret);

  if (last.ok) {
    consecutiveFailures_ = 0;
    openUntil_.reset();
    outcome.ok = outcome.effective = true;
    return outcome;
  }
  if (outcome.attempts > 1) outcome.detail += fmt::format(" ({} attempts)", outcome.attempts);
  ++consecutiveFailures_;
  if (halfOpen || consecutiveFailures_ >= options_.breakerFailures) {
    openUntil_ = now_() + options_.breakerOpen;
    outcome.detail += fmt::format("; circuit opened for {}s", options_.breakerOpen);
  }
  return outcome;
}

}  // namespace trimtab
