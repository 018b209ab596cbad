// SPDX-License-Identifier: Apache-2.0
#include "actuators/postgres_terminate_idle_actuator.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <pqxx/nontransaction>

#include "actuators/actuator_support.h"
#include "common/pg_backends.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "postgres_terminate_idle", PostgresTerminateIdleActuator::create);

namespace {

constexpr int kMaxPerApplyCeiling = 1000;
// pg_terminate_backend(pid, timeout) waits this long for the session to exit (PostgreSQL 14+).
constexpr int kTerminateWaitMs = 1000;
constexpr int kPg14 = 140000;
const std::vector<std::string> kStates = {"idle", "idle in transaction", "idle in transaction (aborted)"};

// The victims are chosen (and limited) first, then terminated: a volatile
// function in one SELECT with ORDER BY/LIMIT could run on rows the limit drops.
constexpr const char* kTerminateSql = R"sql(
WITH victims AS MATERIALIZED (
  SELECT a.pid, a.usename, a.application_name, a.state
  FROM pg_stat_activity a
  WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() AND NOT (a.pid = ANY($6::int[]))
    AND a.state = ANY($1::text[])
    AND a.state_change < now() - make_interval(secs => $2::double precision)
    AND (cardinality($3::text[]) = 0 OR a.application_name = ANY($3::text[]))
    AND (cardinality($4::text[]) = 0 OR a.usename = ANY($4::text[]))
    AND NOT coalesce((SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.usesysid), true)
  ORDER BY a.state_change
  LIMIT $5)
SELECT pid, usename, application_name, state, %s AS terminated FROM victims)sql";

}  // namespace

Result<PostgresTerminateIdleActuator::Options> PostgresTerminateIdleActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readPgActuatorSettings(params, o.settings, false);
  if (params.has("states")) {
    o.states = params.getStringList("states");
    if (o.states.empty()) params.error("states", "expected at least one state");
    for (const auto& s : o.states)
      if (std::find(kStates.begin(), kStates.end(), s) == kStates.end())
        params.error("states", "'" + s + "' is not one of: idle, idle in transaction, idle in transaction (aborted)");
  }
  o.applicationNames = params.getStringList("application_names");
  o.users = params.getStringList("users");
  if (o.applicationNames.empty() && o.users.empty())
    params.error("", "give application_names or users (or both): which sessions may be terminated");
  o.maxPerApply = actuator_support::intSetting(params, "max_per_apply", o.maxPerApply, 1, kMaxPerApplyCeiling);
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> PostgresTerminateIdleActuator::create(ConfigNode& params, const ActuatorContext& context) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  // Every apply below 0 would be refused: said when the config is read.
  if (context.knobMin < 0)
    return makeError(fmt::format("knob '{}' may go down to {}; its value is an idle time in seconds, at least 0", context.knob,
                                 context.knobMin));
  return std::unique_ptr<Actuator>(std::make_unique<PostgresTerminateIdleActuator>(std::move(*options), sleepSeconds));
}

PostgresTerminateIdleActuator::PostgresTerminateIdleActuator(Options options, std::function<void(Seconds)> sleep)
    : PgActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

ActuationOutcome PostgresTerminateIdleActuator::apply(const ActuationRequest& request) {
  if (!(request.value >= 0) || !std::isfinite(request.value)) {
    ActuationOutcome refused;
    refused.detail = "the idle threshold must be a number of seconds of at least 0, got " +
                     actuator_support::formatValue(request.value);
    return refused;
  }
  const std::string states = pgTextArray(options_.states);
  const std::string apps = pgTextArray(options_.applicationNames);
  const std::string users = pgTextArray(options_.users);
  return guarded([&]() -> AttemptResult {
    std::vector<std::string> terminated, lingering;
    AttemptResult r;
    bool ran = runOrFail([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c, "trimtab_terminate_idle");
      std::string sql = kTerminateSql;
      std::string call = c.server_version() >= kPg14 ? fmt::format("pg_terminate_backend(pid, {})", kTerminateWaitMs)
                                                     : std::string("pg_terminate_backend(pid)");
      sql.replace(sql.find("%s"), 2, call);
      // Not trimtab's other connections either (a postgres source idle between scrapes).
      auto rows = tx.exec_params(sql, states, request.value, apps, users, options_.maxPerApply, ownBackendsArray());
      for (const auto& row : rows) {
        std::string who = fmt::format("{} ({}, {})", row[0].as<int>(), row[1].is_null() ? "" : row[1].c_str(),
                                      row[2].is_null() ? "" : row[2].c_str());
        (row[4].as<bool>() ? terminated : lingering).push_back(who);
      }
    }, r);
    if (!ran) return r;
    r.ok = true;
    r.effective = lingering.empty();
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
      return s;
    };
    r.detail = fmt::format("terminated {} sessions idle for more than {}s", terminated.size(),
                           actuator_support::formatValue(request.value));
    if (!terminated.empty()) r.detail += ": " + join(terminated);
    if (!lingering.empty()) r.detail += "; applied, not yet effective: still running after the signal: " + join(lingering);
    return r;
  });
}

}  // namespace trimtab
