// SPDX-License-Identifier: Apache-2.0
#include "common/pg_connection.h"

#include <libpq-fe.h>
#include <sys/socket.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <pqxx/except>

#include "common/pg_backends.h"
#include "common/socket_watchdog.h"

namespace trimtab {

namespace {

// libpq refuses a connect_timeout below 2 s (it would mean "no timeout" for 0).
constexpr int kMinConnectTimeout = 2;
// The server's statement_timeout answers first; the watchdog only catches a
// server that cannot answer at all.
constexpr Seconds kWatchdogGrace = 0.5;

// libpq's messages span lines ("...failed: Connection refused\n\tIs the server running..."); keep one line.
std::string oneLine(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

std::string quoteConninfoValue(const std::string& v) {
  std::string out = "'";
  for (char c : v) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

// host, port and dbname appear in logs and in libpq's errors. A URI
// whose password holds an unencoded '@' or '/' (postgresql://u:p@ss@host)
// puts the rest of the password there: refuse it without echoing the value.
Status checkShownFields(const std::map<std::string, std::string>& kv) {
  // Not `user`: libpq splits a URI's user info at its first '@', so the rest
  // of a password never lands there, and real user names hold '@' (cloud IAM).
  for (const char* key : {"host", "port", "dbname"}) {
    auto it = kv.find(key);
    if (it == kv.end()) continue;
    if (it->second.find('@') != std::string::npos)
      return makeError(std::string("'@' in its ") + key + " (percent-encode '@' in a URI's password as %40)");
  }
  if (auto it = kv.find("port"); it != kv.end()) {
    for (char c : it->second)
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',')
        return makeError("its port is not a number (percent-encode ':' and '/' in a URI's password)");
  }
  return Status::success();
}

}  // namespace

void readPgOptions(ConfigNode& params, PgOptions& out,
                   const std::function<std::string(const std::string&)>& resolvePath) {
  if (auto dsn = params.requiredString("dsn")) {
    if (auto ref = parseSecretRef(*dsn, true); !ref) {
      params.error("dsn", ref.error().message);
    } else {
      out.dsn = *ref;
      if (out.dsn.kind == SecretRef::Kind::File) out.dsn.text = resolvePath(out.dsn.text);
      if (out.dsn.kind == SecretRef::Kind::Literal) {
        char* err = nullptr;
        PQconninfoOption* opts = PQconninfoParse(dsn->c_str(), &err);
        if (!opts) {
          // libpq quotes the offending token, which may be a password.
          params.error("dsn", "invalid connection string: libpq could not parse it (key=value pairs or a "
                              "postgresql:// URI; percent-encode '@', ':' and '/' in a URI's values)");
        } else {
          std::map<std::string, std::string> kv;
          for (auto* o = opts; o->keyword; ++o) {
            if (!o->val) continue;
            kv[o->keyword] = o->val;
            if (std::string_view(o->keyword) == "password")
              params.error("dsn", "the connection string holds a password: give it with password: env:NAME (or dsn: env:NAME)");
          }
          PQconninfoFree(opts);
          // The run refuses these (buildConninfo); `check` must say so too.
          // A password's rest in host, port or dbname is one more reason.
          if (Status shown = checkShownFields(kv); !shown)
            params.error("dsn", "invalid connection string: " + shown.error().message);
        }
        if (err) PQfreemem(err);
      }
    }
  }
  out.password = readPasswordSetting(params, resolvePath);
  out.applicationName = params.getString("application_name", out.applicationName);
}

Result<std::string> buildConninfo(const PgOptions& options, std::string& display, std::string& password) {
  auto dsn = readSecret(options.dsn);
  if (!dsn) return makeError("postgres: dsn: " + dsn.error().message);
  char* err = nullptr;
  PQconninfoOption* opts = PQconninfoParse(dsn->c_str(), &err);
  if (!opts) {
    // libpq quotes the offending token, which may be a password: name the origin only.
    if (err) PQfreemem(err);
    return makeError("postgres: the connection string from " + options.dsn.origin() +
                     " is invalid: libpq could not parse it (key=value pairs, values with spaces in single quotes, "
                     "or a postgresql:// URI with '@', ':' and '/' percent-encoded in its values)");
  }
  std::map<std::string, std::string> kv;
  for (auto* o = opts; o->keyword; ++o)
    if (o->val) kv[o->keyword] = o->val;
  PQconninfoFree(opts);
  if (Status s = checkShownFields(kv); !s)
    return makeError("postgres: the connection string from " + options.dsn.origin() + " is invalid: " +
                     s.error().message);
  if (!options.password.empty()) {
    auto secret = readSecret(options.password);
    if (!secret) return makeError("postgres: password: " + secret.error().message);
    kv["password"] = *secret;
  }
  password = kv.count("password") ? kv["password"] : "";
  kv["connect_timeout"] = std::to_string(std::max(kMinConnectTimeout, static_cast<int>(std::ceil(options.connectTimeout))));
  if (!kv.count("application_name")) kv["application_name"] = options.applicationName;
  if (!options.adminConsole) {
    auto ms = static_cast<long long>(std::ceil(options.queryTimeout * 1000));
    std::string& opt = kv["options"];
    opt += (opt.empty() ? "" : " ") + fmt::format("-c statement_timeout={}", ms);
  }
  std::string host = kv.count("host") ? kv["host"] : kv.count("hostaddr") ? kv["hostaddr"] : "local";
  std::string port = kv.count("port") ? kv["port"] : "5432";
  display = fmt::format("{} {}:{}", options.adminConsole ? "pgbouncer" : "postgres", host, port);
  if (kv.count("dbname")) display += "/" + kv["dbname"];
  if (kv.count("user")) display += " user=" + kv["user"];
  std::string out;
  for (const auto& [k, v] : kv) out += k + "=" + quoteConninfoValue(v) + " ";
  return out;
}

PgConnection::PgConnection(PgOptions options, std::function<Seconds()> now)
    : options_(std::move(options)), guard_(options_.guard, std::move(now)) {}

PgConnection::~PgConnection() { disconnect(); }

std::string PgConnection::display() const {
  std::lock_guard lock(mu_);
  return display_;
}

void PgConnection::disconnect() {
  if (backendPid_ > 0) unregisterOwnBackend(backendPid_);
  backendPid_ = 0;
  try {
    conn_.reset();
  } catch (...) {
    // A destructor that throws on a dead socket must not take trimtab down.
  }
  if (raw_) PQfinish(raw_);
  raw_ = nullptr;
}

bool PgConnection::isOpen() const {
  if (options_.adminConsole) return raw_ && PQstatus(raw_) == CONNECTION_OK;
  return conn_ && conn_->is_open();
}

int PgConnection::socket() const {
  if (options_.adminConsole) return raw_ ? PQsocket(raw_) : -1;
  return conn_ ? conn_->sock() : -1;
}

std::string PgConnection::redact(std::string text) const {
  redactSecret(text, password_);
  return text;
}

Status PgConnection::connect() {
  if (Status admitted = guard_.admit(display_); !admitted.ok()) return admitted;
  std::string display, password;
  auto info = buildConninfo(options_, display, password);
  if (!info) {
    guard_.failed();
    return info.error();
  }
  display_ = display;
  password_ = password;
  ++connects_;
  if (options_.adminConsole) {
    raw_ = PQconnectdb(info->c_str());
    if (!raw_ || PQstatus(raw_) != CONNECTION_OK) {
      std::string why = raw_ ? PQerrorMessage(raw_) : "out of memory";
      disconnect();
      guard_.failed();
      return makeError(redact(display_ + ": connect: " + oneLine(why)));
    }
    return Status::success();
  }
  try {
    conn_ = std::make_unique<pqxx::connection>(*info);
    backendPid_ = conn_->backendpid();
    registerOwnBackend(backendPid_);
  } catch (const std::exception& e) {
    conn_.reset();
    guard_.failed();
    return makeError(redact(display_ + ": connect: " + oneLine(e.what())));
  }
  return Status::success();
}

Status PgConnection::execute(const std::function<void()>& body, std::optional<Seconds> timeout) {
  lastConnectionFailure_ = false;
  const Seconds limit = timeout.value_or(options_.queryTimeout) + (options_.adminConsole ? 0 : kWatchdogGrace);
  for (int attempt = 0;; ++attempt) {
    const bool reused = isOpen();
    if (!reused) {
      disconnect();
      if (Status s = connect(); !s.ok()) {
        lastConnectionFailure_ = true;
        return s;
      }
    }
    std::string failure;
    bool lost = false;
    bool fired = false;
    {
      SocketWatchdog dog(socket(), limit);
      try {
        body();
      } catch (const pqxx::broken_connection& e) {
        failure = e.what();
        lost = true;
      } catch (const PgSimpleError& e) {
        failure = e.what();
        lost = e.connectionLost;
      } catch (const std::exception& e) {
        failure = e.what();
      }
      fired = dog.stop();
    }
    if (fired) {
      // The socket is shut down: whatever `body` saw, this connection is done.
      lost = true;
      if (!failure.empty()) failure = fmt::format("no answer within {:.1f}s", limit);
    }
    if (!lost && !isOpen()) lost = true;
    if (lost) disconnect();
    if (failure.empty()) {
      guard_.succeeded();
      return Status::success();
    }
    // A reused connection the server had closed (it restarted): one fresh try.
    if (lost && reused && !fired && attempt == 0) continue;
    if (lost) {
      guard_.failed();
      lastConnectionFailure_ = true;
    }
    return makeError(redact(display_ + ": " + oneLine(failure)));
  }
}

Status PgConnection::run(const std::function<void(pqxx::connection&)>& work, std::optional<Seconds> timeout) {
  std::lock_guard lock(mu_);
  if (options_.adminConsole) return makeError(display_ + ": the admin console takes simple queries only");
  return execute([&] { work(*conn_); }, timeout);
}

namespace {

class SimpleSession final : public PgSimpleSession {
 public:
  explicit SimpleSession(PGconn* conn) : conn_(conn) {}

  PgTable exec(const std::string& sql) override {
    std::unique_ptr<PGresult, decltype(&PQclear)> result(PQexec(conn_, sql.c_str()), &PQclear);
    ExecStatusType status = result ? PQresultStatus(result.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
      std::string why = result ? PQresultErrorMessage(result.get()) : "";
      if (why.empty()) why = PQerrorMessage(conn_);
      throw PgSimpleError(why.empty() ? "the server answered nothing" : why, PQstatus(conn_) != CONNECTION_OK);
    }
    PgTable t;
    const int columns = PQnfields(result.get());
    for (int c = 0; c < columns; ++c) t.columns.emplace_back(PQfname(result.get(), c));
    const int rows = PQntuples(result.get());
    t.rows.reserve(static_cast<std::size_t>(rows));
    for (int r = 0; r < rows; ++r) {
      std::vector<std::optional<std::string>> row;
      row.reserve(static_cast<std::size_t>(columns));
      for (int c = 0; c < columns; ++c) {
        if (PQgetisnull(result.get(), r, c))
          row.emplace_back(std::nullopt);
        else
          row.emplace_back(std::string(PQgetvalue(result.get(), r, c), static_cast<std::size_t>(PQgetlength(result.get(), r, c))));
      }
      t.rows.push_back(std::move(row));
    }
    return t;
  }

 private:
  PGconn* conn_;
};

}  // namespace

Status PgConnection::runSimple(const std::function<void(PgSimpleSession&)>& work, std::optional<Seconds> timeout) {
  std::lock_guard lock(mu_);
  if (!options_.adminConsole) return makeError(display_ + ": simple queries are for the admin console");
  return execute([&] {
    SimpleSession session(raw_);
    work(session);
  }, timeout);
}

PgTable toPgTable(const pqxx::result& result) {
  PgTable t;
  for (pqxx::row::size_type c = 0; c < result.columns(); ++c) t.columns.emplace_back(result.column_name(c));
  t.rows.reserve(result.size());
  for (const auto& row : result) {
    std::vector<std::optional<std::string>> r;
    r.reserve(row.size());
    for (const auto& field : row) {
      if (field.is_null())
        r.emplace_back(std::nullopt);
      else
        r.emplace_back(std::string(field.c_str(), field.size()));
    }
    t.rows.push_back(std::move(r));
  }
  return t;
}

}  // namespace trimtab
