// SPDX-License-Identifier: Apache-2.0
#include "sources/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <charconv>
#include <cmath>

#include <fmt/format.h>

#include "common/socket_watchdog.h"

namespace trimtab {

namespace {

constexpr int kMaxRedisDb = 1 << 16;
constexpr std::string_view kScheme = "redis://";

timeval toTimeval(Seconds s) {
  timeval tv{};
  double whole = std::floor(s);
  tv.tv_sec = static_cast<time_t>(whole);
  tv.tv_usec = static_cast<suseconds_t>((s - whole) * 1e6);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1000;  // zero would mean "no timeout"
  return tv;
}

bool parseInt(std::string_view s, int& out) {
  if (s.empty()) return false;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && p == s.data() + s.size();
}

// Percent-decoding for userinfo (a password may hold '@' or ':').
std::string percentDecode(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int v = 0;
      auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
      if (ec == std::errc() && p == s.data() + i + 3) {
        out += static_cast<char>(v);
        i += 2;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

RedisReply copyReply(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_STRING: out.type = RedisReply::Type::String; break;
    case REDIS_REPLY_STATUS: out.type = RedisReply::Type::Status; break;
    case REDIS_REPLY_ERROR: out.type = RedisReply::Type::Error; break;
    case REDIS_REPLY_INTEGER: out.type = RedisReply::Type::Integer; break;
    case REDIS_REPLY_ARRAY: out.type = RedisReply::Type::Array; break;
    default: out.type = RedisReply::Type::Nil; break;
  }
  if (r->str && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_ERROR))
    out.str.assign(r->str, r->len);
  out.integer = r->integer;
  if (r->type == REDIS_REPLY_ARRAY) {
    out.elements.reserve(r->elements);
    for (std::size_t i = 0; i < r->elements; ++i) out.elements.push_back(copyReply(r->element[i]));
  }
  return out;
}

struct Argv {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  explicit Argv(const std::vector<std::string>& args) {
    for (const auto& a : args) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
  }
};

}  // namespace

Result<RedisUrl> parseRedisUrl(const std::string& url) {
  std::string_view s(url);
  if (s.substr(0, kScheme.size()) != kScheme) return makeError("expected a redis://host:port URL");
  s.remove_prefix(kScheme.size());
  RedisUrl out;
  // The credentials end at the last '@': a '/' or '@' in a password must not
  // be taken for the database or the host (nor echoed in a message).
  if (auto at = s.rfind('@'); at != std::string_view::npos) {
    std::string_view info = s.substr(0, at);
    s = s.substr(at + 1);
    auto colon = info.find(':');
    out.user = percentDecode(info.substr(0, colon));
    if (colon != std::string_view::npos) out.password = percentDecode(info.substr(colon + 1));
  }
  if (auto slash = s.find('/'); slash != std::string_view::npos) {
    std::string_view db = s.substr(slash + 1);
    s = s.substr(0, slash);
    if (!db.empty() && (!parseInt(db, out.db) || out.db < 0 || out.db > kMaxRedisDb))
      return makeError("expected a database number after the host, got '" + std::string(db) + "'");
  }
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    auto close = s.find(']');
    if (close == std::string_view::npos) return makeError("unclosed '[' in the host");
    out.host = std::string(s.substr(1, close - 1));
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return makeError("expected ':port' after ']'");
      port = rest.substr(1);
    }
  } else {
    auto colon = s.rfind(':');
    out.host = std::string(s.substr(0, colon));
    if (colon != std::string_view::npos) port = s.substr(colon + 1);
  }
  if (out.host.empty()) return makeError("the URL has no host");
  if (!port.empty() && (!parseInt(port, out.port) || out.port < 1 || out.port > 65535))
    return makeError("expected a port from 1 to 65535, got '" + std::string(port) + "'");
  return out;
}

void readRedisOptions(ConfigNode& params, RedisOptions& out,
                      const std::function<std::string(const std::string&)>& resolvePath) {
  std::string url = params.getString("url", kDefaultRedisUrl);
  if (auto ref = parseSecretRef(url, true); !ref) {
    params.error("url", ref.error().message);
  } else {
    out.url = *ref;
    if (out.url.kind == SecretRef::Kind::File) out.url.text = resolvePath(out.url.text);
    if (out.url.kind == SecretRef::Kind::Literal) {
      if (auto parsed = parseRedisUrl(url); !parsed) {
        params.error("url", parsed.error().message);
      } else if (!parsed->password.empty()) {
        params.error("url", "the URL holds a password: give it with password: env:NAME (or url: env:NAME)");
      }
    }
  }
  out.password = readPasswordSetting(params, resolvePath);
  out.username = params.getString("username", out.username);
  if (params.has("db")) {
    std::int64_t db = params.getInteger("db", 0);
    if (db < 0 || db > kMaxRedisDb) params.error("db", fmt::format("expected a database number from 0 to {}", kMaxRedisDb));
    out.db = static_cast<int>(db);
  }
}

RedisConnection::RedisConnection(RedisOptions options, std::function<Seconds()> now)
    : options_(std::move(options)), guard_(options_.guard, std::move(now)) {}

RedisConnection::~RedisConnection() { disconnect(); }

std::string RedisConnection::display() const {
  std::lock_guard lock(mu_);
  return display_;
}

void RedisConnection::disconnect() {
  if (ctx_) redisFree(ctx_);
  ctx_ = nullptr;
}

std::string RedisConnection::redact(std::string text) const {
  redactSecret(text, password_);
  return text;
}

bool RedisConnection::timedOut() const {
  // hiredis reports a read or write past redisSetTimeout as EAGAIN.
  if (!ctx_ || ctx_->err != REDIS_ERR_IO) return false;
  std::string_view why = ctx_->errstr;
  return why.find("temporarily unavailable") != std::string_view::npos || why.find("timed out") != std::string_view::npos;
}

// hiredis's timeout bounds each read, not a reply: a server that trickles
// one keeps every read within it. The watchdog bounds the exchange; its
// grace lets a silent server be reported by the read timeout first.
constexpr Seconds kDeadlineGrace = 0.5;

Seconds RedisConnection::deadline() const { return options_.timeout + kDeadlineGrace; }

redisReply* RedisConnection::send(const std::vector<std::string>& argv, bool& overran) {
  Argv a(argv);
  SocketWatchdog dog(ctx_->fd, deadline());
  auto* raw = static_cast<redisReply*>(redisCommandArgv(ctx_, static_cast<int>(argv.size()), a.ptrs.data(), a.lens.data()));
  overran = dog.stop();
  if (overran && raw) {
    freeReplyObject(raw);
    raw = nullptr;
  }
  return raw;
}

Error RedisConnection::ioError(const std::string& during, bool overran) {
  std::string why = ctx_ && ctx_->errstr[0] ? ctx_->errstr : "connection lost";
  if (timedOut()) why = fmt::format("timed out after {}s", options_.timeout);
  if (overran) why = fmt::format("no complete reply within {}s", deadline());
  disconnect();
  guard_.failed();
  return makeError(redact(display_ + ": " + during + ": " + why));
}

Status RedisConnection::ensureConnected() {
  if (ctx_) return Status::success();
  if (Status admitted = guard_.admit(display_); !admitted.ok()) return admitted;
  auto urlText = readSecret(options_.url);
  if (!urlText) {
    guard_.failed();
    return makeError("redis: url: " + urlText.error().message);
  }
  auto url = parseRedisUrl(*urlText);
  if (!url) {
    guard_.failed();
    return makeError("redis: url from " + options_.url.origin() + ": " + url.error().message);
  }
  std::string password = url->password;
  if (!options_.password.empty()) {
    auto secret = readSecret(options_.password);
    if (!secret) {
      guard_.failed();
      return makeError("redis: password: " + secret.error().message);
    }
    password = *secret;
  }
  password_ = password;
  std::string user = options_.username.empty() ? url->user : options_.username;
  int db = options_.db >= 0 ? options_.db : std::max(url->db, 0);
  display_ = url->host.find(':') != std::string::npos ? fmt::format("redis [{}]:{}", url->host, url->port)
                                                       : fmt::format("redis {}:{}", url->host, url->port);
  ++connects_;
  ctx_ = redisConnectWithTimeout(url->host.c_str(), url->port, toTimeval(options_.timeout));
  if (!ctx_) {
    guard_.failed();
    return makeError(display_ + ": connect: out of memory");
  }
  if (ctx_->err) return ioError("connect");
  if (redisSetTimeout(ctx_, toTimeval(options_.timeout)) != REDIS_OK) return ioError("setting the timeout");

  auto simple = [&](const std::vector<std::string>& argv, const char* what) -> Status {
    bool overran = false;
    redisReply* raw = send(argv, overran);
    if (!raw) return ioError(what, overran);
    RedisReply reply = copyReply(raw);
    freeReplyObject(raw);
    if (reply.isError()) {
      disconnect();
      guard_.failed();
      return makeError(redact(display_ + ": " + what + ": " + reply.str));
    }
    return Status::success();
  };
  if (!password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!user.empty()) auth.push_back(user);
    auth.push_back(password);
    if (Status s = simple(auth, "AUTH"); !s.ok()) return s;
  }
  if (db > 0) {
    if (Status s = simple({"SELECT", std::to_string(db)}, "SELECT"); !s.ok()) return s;
  }
  return Status::success();
}

Result<RedisReply> RedisConnection::command(const std::vector<std::string>& argv) {
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    const bool reused = ctx_ != nullptr;
    if (Status s = ensureConnected(); !s.ok()) return s.error();
    bool overran = false;
    redisReply* raw = send(argv, overran);
    if (!raw) {
      if (reused && attempt == 0 && !overran && !timedOut()) {
        disconnect();  // closed by the server while idle (a restart): one fresh try
        continue;
      }
      return ioError(argv.empty() ? "command" : argv.front(), overran);
    }
    RedisReply reply = copyReply(raw);
    freeReplyObject(raw);
    guard_.succeeded();
    return reply;
  }
}

Result<std::vector<RedisReply>> RedisConnection::pipeline(const std::vector<std::vector<std::string>>& commands) {
  std::lock_guard lock(mu_);
  for (int attempt = 0;; ++attempt) {
    const bool reused = ctx_ != nullptr;
    if (Status s = ensureConnected(); !s.ok()) return s.error();
    bool failed = false;
    SocketWatchdog dog(ctx_->fd, deadline());
    for (const auto& argv : commands) {
      Argv a(argv);
      if (redisAppendCommandArgv(ctx_, static_cast<int>(argv.size()), a.ptrs.data(), a.lens.data()) != REDIS_OK) {
        failed = true;
        break;
      }
    }
    std::vector<RedisReply> replies;
    replies.reserve(commands.size());
    for (std::size_t i = 0; !failed && i < commands.size(); ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx_, &raw) != REDIS_OK || !raw) {
        failed = true;
        break;
      }
      replies.push_back(copyReply(static_cast<redisReply*>(raw)));
      freeReplyObject(raw);
    }
    if (dog.stop()) return ioError("pipeline", true);
    if (!failed) {
      guard_.succeeded();
      return replies;
    }
    // Nothing was read back yet: the server had dropped the idle connection; one fresh try.
    if (reused && attempt == 0 && replies.empty() && !timedOut()) {
      disconnect();
      continue;
    }
    return ioError("pipeline");
  }
}

}  // namespace trimtab
