// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/result.h"

namespace boost::asio {
class io_context;
}

namespace trimtab {

// What a route handler returns.
struct HttpReply {
  int status = 200;
  std::string contentType = "text/plain; charset=utf-8";
  std::string body;
};

// Bounds of the own HTTP server: it must stay cheap whoever connects.
struct HttpServerLimits {
  std::size_t maxConnections = 64;       // past it, the one waiting longest for a request is closed
  Seconds readTimeout = 10;              // per request, idle keep-alive included
  Seconds writeTimeout = 10;
  std::size_t maxHeaderBytes = 8u << 10; // larger -> 431, connection closed
  std::size_t maxBodyBytes = 8u << 10;   // larger -> 413, connection closed
};

// "host:port", "[v6]:port", ":port" or "port"; the host defaults to 127.0.0.1
// (loopback: the server exposes internals and must be opened on purpose).
// Port 0 lets the kernel choose (tests).
struct ListenAddress {
  std::string host;
  unsigned short port = 0;
};
Result<ListenAddress> parseListenAddress(const std::string& listen);

struct HttpServerState;  // private to http_server.cpp

// trimtab's own HTTP/1.1 server (/metrics, /healthz, /readyz): GET only
// (405 otherwise), 404 for an unknown path, keep-alive, bounded request size,
// read timeout and connection cap (a new connection past the cap closes the
// one that has waited longest for a request).
//
// It runs asynchronously on an io_context the caller owns and runs (the live
// loop gives it its own thread); handlers are called on that thread.
//
// REQUIRES: the io_context outlives the server.
// Thread safety: route(), stop() and port() may be called from any thread.
class HttpServer {
 public:
  HttpServer(boost::asio::io_context& io, std::string listen, HttpServerLimits limits = {});
  ~HttpServer();  // stop()
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves `path` (exact match; the query string is ignored) with `handler`.
  // A handler must not call route() or stop(); an exception it throws becomes
  // a 500.
  void route(std::string path, std::function<HttpReply()> handler);

  // Resolves the listen address, binds and starts accepting. Error names the
  // address (bad syntax, address in use, permission denied).
  Status start();

  // Stops accepting and closes every connection (on the io_context's thread).
  // Once stop() returns, no handler is running or will be called again.
  void stop();

  // The bound port (the kernel's choice when listening on port 0); 0 before start().
  unsigned short port() const;

  // Connections closed at once because maxConnections were open and every
  // one of them was mid-answer.
  std::size_t rejectedConnections() const;
  // Connections closed to make room: the one waiting longest for a request.
  std::size_t evictedConnections() const;

 private:
  std::shared_ptr<HttpServerState> impl_;
};

}  // namespace trimtab
