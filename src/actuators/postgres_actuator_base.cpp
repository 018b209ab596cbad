// SPDX-License-Identifier: Apache-2.0
#include "actuators/postgres_actuator_base.h"

#include <filesystem>

namespace trimtab {

void readPgActuatorSettings(ConfigNode& params, PgActuatorSettings& out, bool adminConsole) {
  std::string file = params.file();
  readPgOptions(params, out.pg, [&](const std::string& path) {
    if (path.empty() || path.front() == '/') return path;
    auto dir = std::filesystem::path(file).parent_path();
    return dir.empty() ? path : (dir / path).string();
  });
  readServerRetryOptions(params, out.retry);
  out.pg.adminConsole = adminConsole;
  out.pg.connectTimeout = out.retry.timeout;
  out.pg.queryTimeout = out.retry.timeout;
  // The breaker paces an actuator's reconnects; the connection needs no backoff of its own.
  out.pg.guard = GuardOptions{0, 0};
}

PgActuatorBase::PgActuatorBase(PgActuatorSettings settings, std::function<void(Seconds)> sleep)
    : settings_(std::move(settings)),
      connection_(settings_.pg),
      sleep_(std::move(sleep)),
      breaker_(breakerOptions(settings_.retry)) {}

ActuationOutcome PgActuatorBase::guarded(const std::function<AttemptResult()>& attempt) {
  return runGuarded(breaker_, connection_.display(), settings_.retry, attempt, sleep_);
}

bool PgActuatorBase::runOrFail(const std::function<void(pqxx::connection&)>& work, AttemptResult& failure,
                               std::optional<Seconds> timeout) {
  Status s = connection_.run(work, timeout);
  if (s.ok()) return true;
  failure = AttemptResult{};
  failure.retryable = connection_.lastFailureWasConnection();
  failure.detail = s.error().message;
  return false;
}

bool PgActuatorBase::runSimpleOrFail(const std::function<void(PgSimpleSession&)>& work, AttemptResult& failure) {
  Status s = connection_.runSimple(work);
  if (s.ok()) return true;
  failure = AttemptResult{};
  failure.retryable = connection_.lastFailureWasConnection();
  failure.detail = s.error().message;
  return false;
}

std::string pgTextArray(const std::vector<std::string>& items) {
  std::string out = "{";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += '"';
    for (char c : items[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "}";
}

}  // namespace trimtab
