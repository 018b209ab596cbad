// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <utility>  // before asio: Boost 1.74 misses it in C++20 mode

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <thread>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
// GCC 12 with ASan reports a false maybe-uninitialized inside Beast's parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

#include "controller/http_server.h"
#include "controller/own_metrics.h"

namespace trimtab {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

constexpr int kClientTimeoutSeconds = 5;  // bounds every blocking read below

// The server on its own io thread, as the live loop runs it.
struct Running {
  explicit Running(std::string listen = "127.0.0.1:0", HttpServerLimits limits = {})
      : server(io, std::move(listen), limits) {}
  ~Running() {
    server.stop();
    work.reset();
    if (thread.joinable()) thread.join();
  }
  void start() {
    Status status = server.start();
    REQUIRE_MESSAGE(status.ok(), (status.ok() ? "" : status.error().message));
    thread = std::thread([this] { io.run(); });
  }
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work{asio::make_work_guard(io)};
  HttpServer server;
  std::thread thread;
};

// A blocking client connection with a receive timeout.
class Client {
 public:
  explicit Client(unsigned short port) : socket_(io_) {
    socket_.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    timeval tv{kClientTimeoutSeconds, 0};
    ::setsockopt(socket_.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  // nullopt when the server closed the connection (or the read timed out).
  std::optional<http::response<http::string_body>> send(http::verb verb, const std::string& target,
                                                        bool keepAlive = true) {
    http::request<http::string_body> request(verb, target, 11);
    request.set(http::field::host, "127.0.0.1");
    request.keep_alive(keepAlive);
    boost::system::error_code ec;
    http::write(socket_, request, ec);
    if (ec) return std::nullopt;
    return read();
  }
  std::optional<http::response<http::string_body>> read() {
    http::response<http::string_body> response;
    boost::system::error_code ec;
    http::read(socket_, buffer_, response, ec);
    if (ec) return std::nullopt;
    return response;
  }
  void writeRaw(const std::string& bytes) { asio::write(socket_, asio::buffer(bytes)); }
  // True when the server closed the connection (EOF) within the timeout.
  bool closedByServer() {
    char byte;
    boost::system::error_code ec;
    socket_.read_some(asio::buffer(&byte, 1), ec);
    return ec == asio::error::eof || ec == asio::error::connection_reset;
  }

 private:
  asio::io_context io_;
  tcp::socket socket_;
  boost::beast::flat_buffer buffer_;
};

TEST_CASE("listen addresses") {
  auto a = parseListenAddress("127.0.0.1:9464");
  REQUIRE(a.ok());
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 9464);
  CHECK(parseListenAddress(":9464")->host == "127.0.0.1");
  CHECK(parseListenAddress("9464")->host == "127.0.0.1");
  CHECK(parseListenAddress("0.0.0.0:0")->port == 0);
  auto v6 = parseListenAddress("[::1]:9464");
  REQUIRE(v6.ok());
  CHECK(v6->host == "::1");
  for (const char* bad : {"", "host:", "host:http", "127.0.0.1:65536", "::1:9464", "[::1]9464", "a:-1"}) {
    auto r = parseListenAddress(bad);
    CHECK_MESSAGE(!r.ok(), bad);
    if (!r.ok()) CHECK(r.error().message.find("listen address") == 0);
  }
}

TEST_CASE("own HTTP server answers GET on its routes, 404 and 405 otherwise") {
  Running run;
  run.server.route("/healthz", [] { return HttpReply{200, "text/plain; charset=utf-8", "ok\n"}; });
  run.server.route("/readyz", [] { return HttpReply{503, "text/plain; charset=utf-8", "not ready\n"}; });
  CHECK(run.server.port() == 0);
  run.start();
  REQUIRE(run.server.port() != 0);

  Client client(run.server.port());
  auto health = client.send(http::verb::get, "/healthz");
  REQUIRE(health);
  CHECK(health->result_int() == 200);
  CHECK(health->body() == "ok\n");
  // Same connection: keep-alive.
  auto query = client.send(http::verb::get, "/healthz?verbose=1");
  REQUIRE(query);
  CHECK(query->result_int() == 200);
  auto ready = client.send(http::verb::get, "/readyz");
  REQUIRE(ready);
  CHECK(ready->result_int() == 503);
  auto missing = client.send(http::verb::get, "/nope");
  REQUIRE(missing);
  CHECK(missing->result_int() == 404);
  auto post = client.send(http::verb::post, "/healthz");
  REQUIRE(post);
  CHECK(post->result_int() == 405);
  CHECK((*post)[http::field::allow] == "GET");
  auto last = client.send(http::verb::get, "/healthz", false);
  REQUIRE(last);
  CHECK_FALSE(last->keep_alive());
  CHECK(client.closedByServer());
}

TEST_CASE("own HTTP server serves /metrics from OwnMetrics") {
  OwnMetrics metrics("1.2.3");
  metrics.observeTick(0.0002);
  metrics.countDecision("pool", "apply");
  Running run;
  run.server.route("/metrics", [&] { return HttpReply{200, kPrometheusTextContentType, metrics.serialize()}; });
  run.start();
  Client client(run.server.port());
  auto response = client.send(http::verb::get, "/metrics");
  REQUIRE(response);
  CHECK(response->result_int() == 200);
  CHECK((*response)[http::field::content_type] == kPrometheusTextContentType);
  CHECK(response->body().find("trimtab_build_info{version=\"1.2.3\"} 1") != std::string::npos);
  CHECK(response->body().find("trimtab_decisions_total{knob=\"pool\",verdict=\"apply\"} 1") != std::string::npos);
  CHECK(response->body().find("trimtab_tick_duration_seconds_count 1") != std::string::npos);
}

TEST_CASE("a handler that throws is a 500, and the server keeps serving") {
  Running run;
  run.server.route("/boom", []() -> HttpReply { throw std::runtime_error("boom"); });
  run.server.route("/healthz", [] { return HttpReply{200, "text/plain", "ok\n"}; });
  run.start();
  Client client(run.server.port());
  auto boom = client.send(http::verb::get, "/boom");
  REQUIRE(boom);
  CHECK(boom->result_int() == 500);
  auto health = client.send(http::verb::get, "/healthz");
  REQUIRE(health);
  CHECK(health->result_int() == 200);
}

TEST_CASE("own HTTP server bounds request size") {
  HttpServerLimits limits;
  limits.maxHeaderBytes = 1024;
  Running run("127.0.0.1:0", limits);
  run.server.route("/healthz", [] { return HttpReply{}; });
  run.start();
  Client client(run.server.port());
  client.writeRaw("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n");
  auto response = client.read();
  REQUIRE(response);
  CHECK(response->result_int() == 431);
  CHECK(client.closedByServer());

  Client garbage(run.server.port());
  garbage.writeRaw("NOT HTTP AT ALL\r\n\r\n");
  auto bad = garbage.read();
  REQUIRE(bad);
  CHECK(bad->result_int() == 400);
}

TEST_CASE("own HTTP server closes idle connections after the read timeout") {
  HttpServerLimits limits;
  limits.readTimeout = 0.2;
  Running run("127.0.0.1:0", limits);
  run.start();
  Client idle(run.server.port());
  CHECK(idle.closedByServer());  // within 0.2 s, well before the client's own timeout
}

TEST_CASE("own HTTP server caps open connections: a new one closes the one idle longest") {
  HttpServerLimits limits;
  limits.maxConnections = 2;
  Running run("127.0.0.1:0", limits);
  run.server.route("/healthz", [] { return HttpReply{}; });
  run.start();
  // Two idle clients hold every slot, as a local process holding connections
  // open (or trickling headers) would: the health probe must still get in.
  Client idle(run.server.port());
  REQUIRE(idle.send(http::verb::get, "/healthz"));  // registered, now idle
  Client slow(run.server.port());
  slow.writeRaw("GET /healthz HTTP/1.1\r\nHost: x\r\n");  // headers never finished
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  Client probe(run.server.port());
  auto answer = probe.send(http::verb::get, "/healthz");
  REQUIRE(answer);
  CHECK(answer->result_int() == 200);
  CHECK(idle.closedByServer());  // idle the longest: closed to make room
  CHECK(run.server.evictedConnections() == 1);
  Client next(run.server.port());
  auto again = next.send(http::verb::get, "/healthz");
  REQUIRE(again);
  CHECK(slow.closedByServer());  // then the trickling one
  CHECK(run.server.evictedConnections() == 2);
  CHECK(run.server.rejectedConnections() == 0);
}

TEST_CASE("own HTTP server refuses a new connection when every one is mid-answer") {
  HttpServerLimits limits;
  limits.maxConnections = 1;
  limits.writeTimeout = 5;  // bounds the stuck answer below
  Running run("127.0.0.1:0", limits);
  // An answer far larger than the socket buffers: a client that never reads
  // keeps its connection mid-answer.
  run.server.route("/big", [] { return HttpReply{200, "text/plain", std::string(64u << 20, 'x')}; });
  run.start();
  Client stuck(run.server.port());
  stuck.writeRaw("GET /big HTTP/1.1\r\nHost: x\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the answer is being written
  Client late(run.server.port());
  CHECK(late.closedByServer());
  CHECK(run.server.rejectedConnections() == 1);
  CHECK(run.server.evictedConnections() == 0);  // nobody was waiting for a request
}

TEST_CASE("own HTTP server answers pipelined requests in order") {
  Running run;
  run.server.route("/a", [] { return HttpReply{200, "text/plain", "a\n"}; });
  run.server.route("/b", [] { return HttpReply{200, "text/plain", "b\n"}; });
  run.start();
  Client client(run.server.port());
  client.writeRaw("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n"
                  "GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  for (const char* body : {"a\n", "b\n", "a\n"}) {
    auto r = client.read();
    REQUIRE(r);
    CHECK(r->body() == body);
  }
  CHECK(client.closedByServer());
}

TEST_CASE("own HTTP server stop closes connections and calls no handler after") {
  Running run;
  std::atomic<int> calls{0};
  run.server.route("/healthz", [&] {
    ++calls;
    return HttpReply{};
  });
  run.start();
  Client client(run.server.port());
  REQUIRE(client.send(http::verb::get, "/healthz"));
  run.server.stop();
  int before = calls.load();
  auto after = client.send(http::verb::get, "/healthz");
  CHECK((!after || after->result_int() == 503));
  CHECK(calls.load() == before);
  CHECK(client.closedByServer());
}

TEST_CASE("own HTTP server start errors name the address") {
  Running first;
  first.start();
  asio::io_context io;
  HttpServer second(io, "127.0.0.1:" + std::to_string(first.server.port()));
  Status taken = second.start();
  REQUIRE_FALSE(taken.ok());
  CHECK(taken.error().message.find("127.0.0.1:" + std::to_string(first.server.port())) != std::string::npos);

  HttpServer bad(io, "127.0.0.1:http");
  Status status = bad.start();
  REQUIRE_FALSE(status.ok());
  CHECK(status.error().message.find("listen address") != std::string::npos);
}

}  // namespace
}  // namespace trimtab
