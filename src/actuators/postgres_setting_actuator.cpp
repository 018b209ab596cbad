// SPDX-License-Identifier: Apache-2.0
#include "actuators/postgres_setting_actuator.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>

#include <fmt/format.h>
#include <pqxx/nontransaction>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "postgres_setting", PostgresSettingActuator::create);

namespace {

constexpr Seconds kVerifyPoll = 0.05;
constexpr Seconds kMaxVerifyTimeout = 60;
constexpr double kRelativeTolerance = 1e-9;

// pg_settings shows reals in its own shortest form ("0.1" for "0.10").
bool sameValue(const std::string& shown, const std::string& literal) {
  if (shown == literal) return true;
  char* endShown = nullptr;
  char* endLiteral = nullptr;
  double a = std::strtod(shown.c_str(), &endShown);
  double l = std::strtod(literal.c_str(), &endLiteral);
  if (shown.empty() || literal.empty() || *endShown || *endLiteral) return false;
  return std::fabs(a - l) <= kRelativeTolerance * std::max(1.0, std::fabs(l));
}

}  // namespace

const std::vector<std::string_view>& postgresSettingAllowlist() {
  static const std::vector<std::string_view> list = {
      "work_mem", "maintenance_work_mem", "autovacuum_work_mem", "effective_cache_size", "temp_file_limit",
      "random_page_cost", "seq_page_cost", "cpu_tuple_cost", "cpu_index_tuple_cost", "cpu_operator_cost",
      "parallel_setup_cost", "parallel_tuple_cost", "effective_io_concurrency", "maintenance_io_concurrency",
      "max_parallel_workers_per_gather", "max_parallel_maintenance_workers", "default_statistics_target", "jit",
      "statement_timeout", "lock_timeout", "idle_in_transaction_session_timeout", "idle_session_timeout",
      "deadlock_timeout", "log_min_duration_statement", "autovacuum", "autovacuum_naptime",
      "autovacuum_vacuum_threshold", "autovacuum_vacuum_scale_factor", "autovacuum_vacuum_insert_threshold",
      "autovacuum_vacuum_insert_scale_factor", "autovacuum_analyze_threshold", "autovacuum_analyze_scale_factor",
      "autovacuum_vacuum_cost_delay", "autovacuum_vacuum_cost_limit", "vacuum_cost_delay", "vacuum_cost_limit",
      "checkpoint_timeout", "checkpoint_completion_target", "max_wal_size", "min_wal_size", "bgwriter_delay",
      "bgwriter_lru_maxpages", "bgwriter_lru_multiplier",
  };
  return list;
}

Result<PostgresSettingActuator::Options> PostgresSettingActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readPgActuatorSettings(params, o.settings, false);
  if (auto name = params.requiredString("setting")) {
    o.setting = *name;
    const auto& list = postgresSettingAllowlist();
    if (std::find(list.begin(), list.end(), o.setting) == list.end()) {
      std::vector<std::string> names(list.begin(), list.end());
      std::string hint = closestMatch(o.setting, names);
      params.error("setting", "'" + o.setting + "' is not a setting trimtab may change" +
                                  (hint.empty() ? "" : " (did you mean '" + hint + "'?)") +
                                  "; allowed: see docs/config.md, actuator kind postgres_setting");
    }
  }
  o.verifyTimeout = params.getDuration("verify_timeout", o.verifyTimeout);
  if (!(o.verifyTimeout >= 0 && o.verifyTimeout <= kMaxVerifyTimeout))
    params.error("verify_timeout", fmt::format("expected a duration from 0 to {}s", kMaxVerifyTimeout));
  // The verification runs inside the query's watchdog (`timeout`): a longer
  // one would be cut off after the change was persisted, and retried.
  if (o.verifyTimeout >= o.settings.retry.timeout) params.error("verify_timeout", "expected less than the timeout");
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> PostgresSettingActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(std::make_unique<PostgresSettingActuator>(std::move(*options), sleepSeconds));
}

PostgresSettingActuator::PostgresSettingActuator(Options options, std::function<void(Seconds)> sleep)
    : PgActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

ActuationOutcome PostgresSettingActuator::apply(const ActuationRequest& request) {
  if (!std::isfinite(request.value)) {
    ActuationOutcome refused;
    refused.detail = options_.setting + ": value " + actuator_support::formatValue(request.value) + " is not a number";
    return refused;
  }
  return guarded([&]() -> AttemptResult {
    AttemptResult r;
    std::string literal, before, after, unit;
    bool refused = false, shadowed = false;
    bool ran = runOrFail([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c, "trimtab_setting");
      auto info = tx.exec_params(
          "SELECT context, vartype, setting, coalesce(unit, ''), source FROM pg_settings WHERE name = $1",
          options_.setting);
      if (info.empty()) {
        refused = true;
        r.detail = options_.setting + ": unknown to this server";
        return;
      }
      const std::string context = info[0][0].c_str();
      std::string vartype = info[0][1].c_str();
      before = info[0][2].c_str();
      unit = info[0][3].c_str();
      // A value this session got from its connection (trimtab's own
      // statement_timeout, a DSN's `options`) or from ALTER ROLE/DATABASE
      // outranks the configuration file: the reload never shows here. Then
      // the file's entry is what is checked (pg_file_settings: the last
      // line for the name, and whether the server could apply it).
      const std::string source = info[0][4].c_str();
      shadowed = source == "client" || source == "session" || source == "user" || source == "database" ||
                 source == "database user";
      if (context != "sighup" && context != "user" && context != "superuser") {
        refused = true;
        r.detail = fmt::format("{}: context '{}' needs a restart, not a reload", options_.setting, context);
        return;
      }
      if (vartype == "bool") {
        literal = request.value != 0 ? "on" : "off";
      } else if (vartype == "integer") {
        if (request.value != std::trunc(request.value)) {
          refused = true;
          r.detail = fmt::format("{}: expects a whole number, got {}", options_.setting, request.value);
          return;
        }
        literal = actuator_support::formatValue(request.value);
      } else if (vartype == "real") {
        literal = actuator_support::formatValue(request.value);
      } else {
        refused = true;
        r.detail = fmt::format("{}: a {} setting cannot take a number", options_.setting, vartype);
        return;
      }
      // ALTER SYSTEM takes no bind parameters: the name is allowlisted and
      // quoted, the literal is built from a number and quoted.
      tx.exec("ALTER SYSTEM SET " + c.quote_name(options_.setting) + " = " + c.quote(literal));
      tx.exec("SELECT pg_reload_conf()");
      // This session applies the reload between statements; poll until it has.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.verifyTimeout);
      for (;;) {
        if (shadowed) {
          auto file = tx.exec_params(
              "SELECT setting, applied FROM pg_file_settings WHERE name = $1 ORDER BY seqno DESC LIMIT 1",
              options_.setting);
          after = !file.empty() && file[0][1].as<bool>(false) ? file[0][0].c_str() : "";
        } else {
          after = tx.exec_params("SELECT setting FROM pg_settings WHERE name = $1", options_.setting)[0][0].c_str();
        }
        if (sameValue(after, literal) || std::chrono::steady_clock::now() >= deadline) break;
        sleep_(kVerifyPoll);
      }
    }, r);
    if (!ran) return r;
    if (refused) return r;
    r.ok = true;
    r.effective = sameValue(after, literal);
    std::string shownUnit = unit.empty() ? "" : " " + unit;
    r.detail = fmt::format("{} = {}{} (was {}{}; ALTER SYSTEM + reload{})", options_.setting, after, shownUnit, before,
                           shownUnit, shadowed ? "; checked in pg_file_settings: this session overrides it" : "");
    if (!r.effective)
      r.detail += fmt::format("; applied, not yet effective: {} shows {}, not {}",
                              shadowed ? "pg_file_settings" : "pg_settings", after.empty() ? "nothing applied" : after,
                              literal);
    return r;
  });
}

}  // namespace trimtab
