// SPDX-License-Identifier: Apache-2.0
#include "actuators/postgres_vacuum_actuator.h"

#include <cmath>

#include <fmt/format.h>
#include <pqxx/nontransaction>

#include "actuators/actuator_support.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "postgres_vacuum", PostgresVacuumActuator::create);

namespace {

constexpr int kMaxTablesCeiling = 100;
// A vacuum takes long: the default bound on one apply is longer than other actuators'.
constexpr Seconds kDefaultVacuumTimeout = 300;

// $2: the allowlist's `schema.table` entries, matched against the qualified
// name only; $4: its bare `table` entries, matched against the table name
// only. (One list for both let an entry public.orders match a table of that
// very name in any schema: evil."public.orders".) Both empty: every table.
constexpr const char* kCandidatesSql =
    "SELECT schemaname, relname, n_dead_tup FROM pg_stat_user_tables "
    "WHERE n_dead_tup > $1::double precision "
    "AND ((cardinality($2::text[]) = 0 AND cardinality($4::text[]) = 0) "
    "OR schemaname || '.' || relname = ANY($2::text[]) OR relname = ANY($4::text[])) "
    "ORDER BY n_dead_tup DESC, schemaname, relname LIMIT $3";

}  // namespace

Result<PostgresVacuumActuator::Options> PostgresVacuumActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  o.settings.retry.timeout = kDefaultVacuumTimeout;
  readPgActuatorSettings(params, o.settings, false);
  o.tables = params.getStringList("tables");
  for (const auto& t : o.tables)
    if (t.empty() || std::count(t.begin(), t.end(), '.') > 1) params.error("tables", "expected 'schema.table' or 'table', got '" + t + "'");
  o.maxTablesPerApply =
      actuator_support::intSetting(params, "max_tables_per_apply", o.maxTablesPerApply, 1, kMaxTablesCeiling);
  o.analyze = params.getBool("analyze", o.analyze);
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> PostgresVacuumActuator::create(ConfigNode& params, const ActuatorContext& context) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  // Every apply below 0 would be refused: said when the config is read.
  if (context.knobMin < 0)
    return makeError(fmt::format("knob '{}' may go down to {}; its value is a dead-tuple threshold, at least 0", context.knob,
                                 context.knobMin));
  return std::unique_ptr<Actuator>(std::make_unique<PostgresVacuumActuator>(std::move(*options), sleepSeconds));
}

PostgresVacuumActuator::PostgresVacuumActuator(Options options, std::function<void(Seconds)> sleep)
    : PgActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

ActuationOutcome PostgresVacuumActuator::apply(const ActuationRequest& request) {
  if (!(request.value >= 0) || !std::isfinite(request.value)) {
    ActuationOutcome refused;
    refused.detail = "the dead-tuple threshold must be a number of at least 0, got " +
                     actuator_support::formatValue(request.value);
    return refused;
  }
  std::vector<std::string> qualified, bare;
  for (const auto& t : options_.tables) (t.find('.') != std::string::npos ? qualified : bare).push_back(t);
  const std::string qualifiedTables = pgTextArray(qualified);
  const std::string bareTables = pgTextArray(bare);
  return guarded([&]() -> AttemptResult {
    std::vector<std::string> done;
    std::size_t remaining = 0;
    AttemptResult r;
    bool ran = runOrFail([&](pqxx::connection& c) {
      pqxx::nontransaction tx(c, "trimtab_vacuum");
      auto candidates =
          tx.exec_params(kCandidatesSql, request.value, qualifiedTables, options_.maxTablesPerApply, bareTables);
      for (const auto& row : candidates) {
        const std::string name = c.quote_name(row[0].c_str()) + "." + c.quote_name(row[1].c_str());
        // The statistics may name a table dropped since: check before touching it.
        if (tx.exec_params("SELECT to_regclass($1) IS NOT NULL", name)[0][0].as<bool>() == false) continue;
        // VACUUM refuses to run in a transaction block; the nontransaction runs it in autocommit.
        tx.exec(std::string(options_.analyze ? "VACUUM (ANALYZE) " : "VACUUM ") + name);
        done.push_back(fmt::format("{} ({} dead)", name, row[2].c_str()));
      }
      // Pending statistics reach the view at once (PostgreSQL 15+), so the check below sees this vacuum.
      if (c.server_version() >= 150000) tx.exec("SELECT pg_stat_force_next_flush()");
      remaining = tx.exec_params(kCandidatesSql, request.value, qualifiedTables, 1000, bareTables).size();
    }, r);
    if (!ran) return r;
    r.ok = true;
    r.effective = remaining == 0;
    std::string list;
    for (const auto& d : done) list += (list.empty() ? "" : ", ") + d;
    r.detail = done.empty() ? fmt::format("no table above {} dead tuples", actuator_support::formatValue(request.value))
                            : "vacuumed " + list;
    if (remaining > 0)
      r.detail += fmt::format("; applied, not yet effective: {} {} still above {} dead tuples", remaining,
                              remaining == 1 ? "table" : "tables", actuator_support::formatValue(request.value));
    return r;
  });
}

}  // namespace trimtab
