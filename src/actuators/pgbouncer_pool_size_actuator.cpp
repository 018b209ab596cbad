// SPDX-License-Identifier: Apache-2.0
#include "actuators/pgbouncer_pool_size_actuator.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "actuators/actuator_support.h"
#include "sources/pgbouncer_source.h"

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "pgbouncer_pool_size", PgbouncerPoolSizeActuator::create);

namespace {

constexpr Seconds kVerifyPoll = 0.05;
constexpr Seconds kMaxVerifyTimeout = 60;
constexpr std::string_view kAdminDatabase = "pgbouncer";
constexpr std::array<std::string_view, 5> kServerColumns = {"sv_active", "sv_idle", "sv_used", "sv_tested", "sv_login"};

// Database names this actuator takes: letters, digits, '_', '-', '.', at
// most pgbouncer's 63 bytes. pgbouncer's admin parser reads a bare word as
// [0-9a-z_]+ only, so RECONNECT always sends the name double-quoted (which
// these characters never need escaped in).
constexpr std::size_t kMaxDatabaseName = 63;
bool isPlainName(const std::string& s) {
  return !s.empty() && s.size() <= kMaxDatabaseName && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  });
}

std::string cell(const PgTable& t, std::size_t row, int column) {
  if (column < 0 || row >= t.rows.size() || static_cast<std::size_t>(column) >= t.rows[row].size()) return "";
  return t.rows[row][static_cast<std::size_t>(column)].value_or("");
}

}  // namespace

int PgbouncerPoolSizeActuator::largestPool(const PgTable& pools, const std::string& database) {
  int db = pools.column("database");
  int largest = 0;
  for (std::size_t r = 0; r < pools.rows.size(); ++r) {
    std::string name = cell(pools, r, db);
    if (name == kAdminDatabase || (!database.empty() && name != database)) continue;
    int servers = 0;
    for (auto column : kServerColumns) {
      double v = 0;
      if (cellNumber(cell(pools, r, pools.column(column)), v)) servers += static_cast<int>(v);
    }
    largest = std::max(largest, servers);
  }
  return largest;
}

Result<PgbouncerPoolSizeActuator::Options> PgbouncerPoolSizeActuator::parseOptions(ConfigNode& params) {
  std::size_t before = actuator_support::diagnosticCount(params);
  Options o;
  readPgActuatorSettings(params, o.settings, true);
  o.database = params.getString("database", "");
  if (!o.database.empty() && !isPlainName(o.database))
    params.error("database", "expected a database name of at most 63 letters, digits, '_', '-', '.'");
  if (o.database == kAdminDatabase) params.error("database", "the admin database has no pool to size");
  o.verifyTimeout = params.getDuration("verify_timeout", o.verifyTimeout);
  if (!(o.verifyTimeout >= 0 && o.verifyTimeout <= kMaxVerifyTimeout))
    params.error("verify_timeout", fmt::format("expected a duration from 0 to {}s", kMaxVerifyTimeout));
  if (o.verifyTimeout >= o.settings.retry.timeout) params.error("verify_timeout", "expected less than the timeout");
  o.reconnectOnShrink = params.getBool("reconnect_on_shrink", o.reconnectOnShrink);
  params.finish();
  if (auto status = actuator_support::newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> PgbouncerPoolSizeActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(std::make_unique<PgbouncerPoolSizeActuator>(std::move(*options), sleepSeconds));
}

PgbouncerPoolSizeActuator::PgbouncerPoolSizeActuator(Options options, std::function<void(Seconds)> sleep)
    : PgActuatorBase(options.settings, std::move(sleep)), options_(std::move(options)) {}

ActuationOutcome PgbouncerPoolSizeActuator::apply(const ActuationRequest& request) {
  const double v = request.value;
  if (!(v >= 1 && v <= kPgbouncerMaxPoolSize) || v != std::trunc(v)) {
    ActuationOutcome refused;
    refused.detail = fmt::format("default_pool_size must be a whole number from 1 to {}, got {}", kPgbouncerMaxPoolSize,
                                 actuator_support::formatValue(v));
    return refused;
  }
  const int size = static_cast<int>(v);
  return guarded([&]() -> AttemptResult {
    AttemptResult r;
    std::string before, shown, dbPoolSize;
    int largest = 0;
    bool reconnected = false, settled = false;
    bool ran = runSimpleOrFail([&](PgSimpleSession& tx) {
      // The admin console speaks the simple query protocol only: plain statements, no parameters.
      before = pgbouncer_rows::configValue(tx.exec("SHOW CONFIG"), "default_pool_size");
      tx.exec(fmt::format("SET default_pool_size = {}", size));
      shown = pgbouncer_rows::configValue(tx.exec("SHOW CONFIG"), "default_pool_size");
      if (!options_.database.empty()) {
        PgTable dbs = tx.exec("SHOW DATABASES");
        for (std::size_t row = 0; row < dbs.rows.size(); ++row)
          if (cell(dbs, row, dbs.column("name")) == options_.database) dbPoolSize = cell(dbs, row, dbs.column("pool_size"));
      }
      // Shrinking is a lower setting, or the same one while the pools still
      // hold more (set lower by a client that sent no RECONNECT, or an apply
      // whose reconnect did not finish). Not a growth: pools may hold more
      // than default_pool_size by design (reserve_pool_size, a database's
      // own pool_size), and a RECONNECT under that load would hurt.
      double old = 0;
      const bool haveOld = cellNumber(before, old);
      const bool shrinking = haveOld && (size < old || (size == old && largestPool(tx.exec("SHOW POOLS"),
                                                                                   options_.database) > size));
      if (shrinking && options_.reconnectOnShrink) {
        tx.exec(options_.database.empty() ? std::string("RECONNECT") : "RECONNECT \"" + options_.database + "\"");
        reconnected = true;
      }
      // Busy server connections close only once released: poll until the pools fit.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(options_.verifyTimeout);
      for (;;) {
        largest = largestPool(tx.exec("SHOW POOLS"), options_.database);
        settled = largest <= size;
        if (settled || !shrinking || std::chrono::steady_clock::now() >= deadline) break;
        sleep_(kVerifyPoll);
      }
    }, r);
    if (!ran) return r;
    if (shown != std::to_string(size)) {
      r.detail = fmt::format("SET default_pool_size = {} accepted, but SHOW CONFIG shows '{}'", size, shown);
      return r;
    }
    if (!options_.database.empty() && dbPoolSize.empty()) {
      r.detail = fmt::format("default_pool_size = {}, but pgbouncer has no database '{}' (SHOW DATABASES)", size, options_.database);
      return r;
    }
    if (!options_.database.empty() && dbPoolSize != shown) {
      r.detail = fmt::format("default_pool_size = {}, but database '{}' has its own pool_size {} in pgbouncer.ini, "
                             "which default_pool_size does not change", size, options_.database, dbPoolSize);
      return r;
    }
    r.ok = true;
    r.effective = settled;
    r.detail = fmt::format("default_pool_size {} -> {} (SHOW CONFIG){}; largest pool: {} server connections", before,
                           shown, reconnected ? ", RECONNECT sent" : "", largest);
    if (!settled)
      r.detail += fmt::format("; applied, not yet effective: a pool still holds {} > {} server connections", largest, size);
    return r;
  });
}

}  // namespace trimtab
