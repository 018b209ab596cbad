// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>

#include <pqxx/connection>
#include <pqxx/result>

#include "common/config_node.h"
#include "common/pg_table.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/server_guard.h"

struct pg_conn;  // libpq's PGconn

namespace trimtab {

// A session on the simple query protocol only, for pgbouncer's admin console.
// libpqxx cannot be used there: it refuses the console's server_version
// ("1.18.0/bouncer" reads as below its 9.0 minimum).
class PgSimpleSession {
 public:
  virtual ~PgSimpleSession() = default;
  // One statement through PQexec (no parameters, no prepared statements).
  // Throws PgSimpleError on failure.
  virtual PgTable exec(const std::string& sql) = 0;
};

struct PgSimpleError : std::runtime_error {
  PgSimpleError(const std::string& what, bool lost) : std::runtime_error(what), connectionLost(lost) {}
  bool connectionLost;
};

// Connection settings (keys in docs/config.md, "PostgreSQL connection").
struct PgOptions {
  SecretRef dsn;       // dsn: "host=... dbname=..." or postgresql://...; or env:NAME / file:PATH holding one
  SecretRef password;  // password: env:NAME or file:PATH; password_file: PATH (overrides the DSN's)
  std::string applicationName = "trimtab";
  Seconds connectTimeout = 5;  // libpq connect_timeout (whole seconds, at least 2: libpq's minimum)
  Seconds queryTimeout = 5;    // statement_timeout, and a client-side watchdog
  // pgbouncer's admin console: no startup options (no statement_timeout: the
  // watchdog alone bounds a query), and runSimple() instead of run().
  bool adminConsole = false;
  GuardOptions guard;
};

// Reads dsn, password, password_file, application_name into `out`; problems
// are recorded on params. A literal DSN holding a password is refused: give
// it with dsn: env:NAME, or the password with password: env:NAME.
void readPgOptions(ConfigNode& params, PgOptions& out,
                   const std::function<std::string(const std::string&)>& resolvePath);

// Builds the libpq connection string: the DSN's keywords, plus the password,
// connect_timeout, application_name and (unless adminConsole) options
// '-c statement_timeout=...'. `display` receives "postgres host:port/db user=u"
// (never the password), `password` the password in use ("" when none).
Result<std::string> buildConninfo(const PgOptions& options, std::string& display, std::string& password);

// One reused libpqxx connection with bounded calls: connect_timeout on
// connect, statement_timeout on the server, and a watchdog that shuts the
// socket down when a call overruns (a stopped or unreachable server), so no
// call blocks past its timeout (+ a short grace). Re-opened on a later call
// after a failure, paced by a ServerGuard. A call on a reused connection that
// the server had closed (a restart) is retried once on a fresh connection, so
// `work` must be safe to repeat; an overrun is never retried.
//
// Messages name the server and never carry the password (libpq's messages
// are redacted too).
//
// Thread safety: calls are serialized by a mutex.
class PgConnection {
 public:
  explicit PgConnection(PgOptions options, std::function<Seconds()> now = ServerGuard::steadyNow);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `work` on a live connection (connecting first when needed), bounded
  // by `timeout` (default: the query timeout). Exceptions from `work` become
  // Errors: a lost connection or an overrun drops the connection (the next
  // call reconnects); an SQL error keeps it.
  // REQUIRES: !adminConsole.
  Status run(const std::function<void(pqxx::connection&)>& work, std::optional<Seconds> timeout = std::nullopt);
  // The same for the admin console, on libpq's simple query protocol.
  // REQUIRES: adminConsole.
  Status runSimple(const std::function<void(PgSimpleSession&)>& work, std::optional<Seconds> timeout = std::nullopt);

  // Whether the last failed run() failed on the connection (server down,
  // refused, timed out) rather than on SQL: worth a retry.
  bool lastFailureWasConnection() const { return lastConnectionFailure_; }

  std::string display() const;
  void disconnect();
  int connects() const { return connects_; }

 private:
  Status connect();
  Status execute(const std::function<void()>& body, std::optional<Seconds> timeout);
  bool isOpen() const;
  int socket() const;
  std::string redact(std::string text) const;

  PgOptions options_;
  ServerGuard guard_;
  mutable std::mutex mu_;
  std::unique_ptr<pqxx::connection> conn_;  // postgres
  int backendPid_ = 0;                       // conn_'s, registered as trimtab's own (pg_backends.h)
  pg_conn* raw_ = nullptr;                  // admin console (libpq's PGconn)
  std::string display_ = "postgres";
  std::string password_;
  int connects_ = 0;
  bool lastConnectionFailure_ = false;
};

// A result as plain text (see PgTable).
PgTable toPgTable(const pqxx::result& result);

}  // namespace trimtab
