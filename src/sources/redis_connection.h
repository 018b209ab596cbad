// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "common/config_node.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/server_guard.h"

struct redisContext;
struct redisReply;

namespace trimtab {

// A Redis reply, copied out of hiredis's reply tree.
struct RedisReply {
  enum class Type { Nil, String, Status, Integer, Error, Array };
  Type type = Type::Nil;
  std::string str;  // String, Status, Error
  long long integer = 0;
  std::vector<RedisReply> elements;  // Array

  bool isError() const { return type == Type::Error; }
};

// redis://[[user]:password@]host[:port][/db] (IPv6 hosts in brackets).
struct RedisUrl {
  std::string host;
  int port = 6379;
  std::string user;
  std::string password;
  int db = -1;  // -1: not given
};
Result<RedisUrl> parseRedisUrl(const std::string& url);

// Connection settings (keys in docs/config.md, "Redis connection").
struct RedisOptions {
  SecretRef url;       // url: a literal URL, or env:NAME / file:PATH holding one
  SecretRef password;  // password: env:NAME or file:PATH; password_file: PATH
  std::string username;
  int db = -1;          // db: overrides the URL's
  Seconds timeout = 2;  // connect, and each read or write
  GuardOptions guard;   // reconnect backoff (and breaker)
};

inline constexpr const char* kDefaultRedisUrl = "redis://127.0.0.1:6379";

// Reads url, password, password_file, username and db into `out` (the
// timeout and guard are the caller's); problems are recorded on params.
// `resolvePath` makes a relative password_file relative to the config file.
void readRedisOptions(ConfigNode& params, RedisOptions& out,
                      const std::function<std::string(const std::string&)>& resolvePath);

// One synchronous hiredis connection, opened on first use and re-opened after
// an I/O error, with a timeout on connect and on every read and write
// (redisConnectWithTimeout + redisSetTimeout), AUTH and SELECT on connect,
// and a ServerGuard between reconnects. Commands are argv vectors
// (redisCommandArgv): user data is never formatted into a command string.
//
// A call on a reused connection that the server had closed (it restarted)
// is retried once on a fresh connection, so a server that came back is read
// at the next call; timeouts are never retried.
//
// Errors name the server ("redis 127.0.0.1:6379: ...") and never carry the
// password. A server error reply (e.g. "ERR unknown command") is not an
// Error: it is a reply of type Error, and the connection stays up.
//
// Thread safety: calls are serialized by a mutex.
class RedisConnection {
 public:
  explicit RedisConnection(RedisOptions options, std::function<Seconds()> now = ServerGuard::steadyNow);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  Result<RedisReply> command(const std::vector<std::string>& argv);
  // Sends every command, then reads every reply (one round trip).
  Result<std::vector<RedisReply>> pipeline(const std::vector<std::vector<std::string>>& commands);

  // "redis 127.0.0.1:6379" once connected or tried; "redis" before.
  std::string display() const;
  void disconnect();
  // Connects made so far (tests: reuse and backoff).
  int connects() const { return connects_; }

 private:
  Status ensureConnected();
  // `overran`: the watchdog cut a reply that never completed.
  Error ioError(const std::string& during, bool overran = false);
  bool timedOut() const;
  // The whole of one exchange (a command, a pipeline, AUTH): the per-read
  // timeout plus a grace, after which the socket is shut down.
  Seconds deadline() const;
  // One command under that deadline: hiredis's reply (nullptr on an I/O
  // error), or nullptr and `overran` when the watchdog cut it.
  redisReply* send(const std::vector<std::string>& argv, bool& overran);
  std::string redact(std::string text) const;

  RedisOptions options_;
  ServerGuard guard_;
  mutable std::mutex mu_;
  redisContext* ctx_ = nullptr;
  std::string display_ = "redis";
  std::string password_;  // the last one used, to redact it from messages
  int connects_ = 0;
};

}  // namespace trimtab
