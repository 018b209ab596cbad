// SPDX-License-Identifier: Apache-2.0
#include "controller/http_server.h"

#include <utility>  // before asio: Boost 1.74 misses it in C++20 mode

#include <atomic>
#include <charconv>
#include <chrono>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace trimtab {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr const char* kDefaultHost = "127.0.0.1";
constexpr Seconds kAcceptRetryDelay = 0.1;
// A full server is logged at most this often (a local client can keep it full).
constexpr auto kFullWarningInterval = std::chrono::minutes(1);

std::chrono::steady_clock::duration toDuration(Seconds s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

}  // namespace

Result<ListenAddress> parseListenAddress(const std::string& listen) {
  std::string host;
  std::string port;
  if (!listen.empty() && listen.front() == '[') {
    auto close = listen.find(']');
    if (close == std::string::npos || close + 1 >= listen.size() || listen[close + 1] != ':')
      return makeError("listen address '" + listen + "': expected [ipv6]:port, e.g. [::1]:9464");
    host = listen.substr(1, close - 1);
    port = listen.substr(close + 2);
  } else {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) {
      port = listen;
    } else {
      if (listen.find(':') != colon)
        return makeError("listen address '" + listen + "': write IPv6 hosts in brackets, e.g. [::1]:9464");
      host = listen.substr(0, colon);
      port = listen.substr(colon + 1);
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535)
    return makeError("listen address '" + listen + "': expected host:port with a port 0-65535, e.g. 127.0.0.1:9464");
  return ListenAddress{host.empty() ? kDefaultHost : host, static_cast<unsigned short>(value)};
}

class Session;

struct HttpServerState : std::enable_shared_from_this<HttpServerState> {
  HttpServerState(asio::io_context& ctx, std::string where, HttpServerLimits lim)
      : io(ctx), listen(std::move(where)), limits(lim), acceptor(ctx), retryTimer(ctx) {}

  void accept();
  HttpReply handle(const std::string& target);

  asio::io_context& io;
  std::string listen;
  HttpServerLimits limits;
  tcp::acceptor acceptor;  // io thread only (and start() before accepting)
  asio::steady_timer retryTimer;
  std::atomic<unsigned short> boundPort{0};
  std::atomic<std::size_t> open{0};
  std::atomic<std::size_t> rejected{0};
  std::atomic<std::size_t> evicted{0};
  std::chrono::steady_clock::time_point lastFullWarning{};  // io thread only

  // When every slot is taken: closes the connection that has waited longest
  // for a request (idle keep-alive, or headers trickling in), so that idle
  // or slow local clients cannot lock /healthz out. False when every
  // connection is mid-answer.
  bool evictLongestWaiting();

  // Serializes handler calls with route() and stop(), which is what lets
  // stop() promise that no handler runs after it returns.
  std::mutex mu;
  std::map<std::string, std::function<HttpReply()>, std::less<>> routes;
  bool stopped = false;

  // Live sessions, io thread only; stop() closes them.
  std::unordered_map<Session*, std::weak_ptr<Session>> sessions;
};

// One connection: read a request, answer, repeat while keep-alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<HttpServerState> server)
      : stream_(std::move(socket)), server_(std::move(server)) {}

  ~Session() {
    server_->sessions.erase(this);
    server_->open.fetch_sub(1);
  }

  void start() {
    server_->sessions.emplace(this, weak_from_this());
    read();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.socket().close(ignored);
  }

  // Waiting for (the rest of) a request, since when; io thread only.
  bool waiting() const { return waiting_; }
  std::chrono::steady_clock::time_point waitingSince() const { return waitingSince_; }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(server_->limits.maxHeaderBytes));
    parser_->body_limit(server_->limits.maxBodyBytes);
    stream_.expires_after(toDuration(server_->limits.readTimeout));
    waiting_ = true;
    waitingSince_ = std::chrono::steady_clock::now();
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) { self->onRead(ec); });
  }

  void onRead(beast::error_code ec) {
    waiting_ = false;
    if (ec == http::error::header_limit) return reply(431, "request header too large\n", false);
    if (ec == http::error::body_limit) return reply(413, "request body too large\n", false);
    if (ec && ec.category() == http::make_error_code(http::error::bad_method).category() &&
        ec != http::error::end_of_stream && ec != http::error::partial_message)
      return reply(400, "malformed request\n", false);
    if (ec) return close();  // peer closed, timeout, or stop()

    const auto& request = parser_->get();
    bool keepAlive = request.keep_alive();
    version_ = request.version();
    if (request.method() != http::verb::get) return reply(405, "only GET is supported\n", keepAlive);
    HttpReply r = server_->handle(std::string(request.target()));
    send(r.status, std::move(r.contentType), std::move(r.body), keepAlive);
  }

  void reply(int status, std::string body, bool keepAlive) {
    send(status, "text/plain; charset=utf-8", std::move(body), keepAlive);
  }

  void send(int status, std::string contentType, std::string body, bool keepAlive) {
    response_.emplace(static_cast<http::status>(status), version_ ? version_ : 11);
    response_->set(http::field::server, "trimtab");
    response_->set(http::field::content_type, contentType);
    if (status == 405) response_->set(http::field::allow, "GET");
    response_->keep_alive(keepAlive);
    response_->body() = std::move(body);
    response_->prepare_payload();
    stream_.expires_after(toDuration(server_->limits.writeTimeout));
    http::async_write(stream_, *response_,
                      [self = shared_from_this(), keepAlive](beast::error_code ec, std::size_t) {
                        if (ec || !keepAlive) return self->close();
                        self->read();
                      });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  unsigned version_ = 11;
  bool waiting_ = false;
  std::chrono::steady_clock::time_point waitingSince_{};
  std::shared_ptr<HttpServerState> server_;
};

bool HttpServerState::evictLongestWaiting() {
  std::shared_ptr<Session> oldest;
  for (auto& [_, weak] : sessions) {
    auto session = weak.lock();
    if (!session || !session->waiting()) continue;
    if (!oldest || session->waitingSince() < oldest->waitingSince()) oldest = std::move(session);
  }
  if (!oldest) return false;
  sessions.erase(oldest.get());  // no longer a candidate; it is destroyed once its read ends
  oldest->close();
  evicted.fetch_add(1);
  return true;
}

void HttpServerState::accept() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !self->acceptor.is_open()) return;
    if (!ec) {
      bool room = self->open.load() < self->limits.maxConnections;
      if (!room) {
        room = self->evictLongestWaiting();
        const auto now = std::chrono::steady_clock::now();
        if (now - self->lastFullWarning > kFullWarningInterval) {
          self->lastFullWarning = now;
          spdlog::warn("own HTTP server on {}: {} connections open (the limit); {}", self->listen,
                       self->limits.maxConnections,
                       room ? "closed the one that waited longest for a request"
                            : "refused a new one, every connection is mid-answer");
        }
      }
      if (!room) {
        self->rejected.fetch_add(1);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        self->open.fetch_add(1);
        std::make_shared<Session>(std::move(socket), self)->start();
      }
    } else {
      // EMFILE and friends fail again at once: pause instead of spinning,
      // and keep serving the connections we have.
      spdlog::warn("own HTTP server on {}: accept failed: {}", self->listen, ec.message());
      self->retryTimer.expires_after(toDuration(kAcceptRetryDelay));
      self->retryTimer.async_wait([self](beast::error_code timerEc) {
        if (!timerEc && self->acceptor.is_open()) self->accept();
      });
      return;
    }
    self->accept();
  });
}

HttpReply HttpServerState::handle(const std::string& target) {
  std::string path = target.substr(0, target.find('?'));
  std::lock_guard lock(mu);
  if (stopped) return {503, "text/plain; charset=utf-8", "stopping\n"};
  auto it = routes.find(path);
  if (it == routes.end()) return {404, "text/plain; charset=utf-8", "not found\n"};
  try {
    return it->second();
  } catch (const std::exception& e) {
    spdlog::error("own HTTP server: handler for {} failed: {}", path, e.what());
  } catch (...) {
    spdlog::error("own HTTP server: handler for {} failed", path);
  }
  return {500, "text/plain; charset=utf-8", "internal error\n"};
}

HttpServer::HttpServer(asio::io_context& io, std::string listen, HttpServerLimits limits)
    : impl_(std::make_shared<HttpServerState>(io, std::move(listen), limits)) {}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(std::string path, std::function<HttpReply()> handler) {
  std::lock_guard lock(impl_->mu);
  impl_->routes[std::move(path)] = std::move(handler);
}

Status HttpServer::start() {
  auto address = parseListenAddress(impl_->listen);
  if (!address) return address.error();
  const std::string where = "own HTTP server on '" + impl_->listen + "'";
  beast::error_code ec;
  tcp::resolver resolver(impl_->io);
  auto endpoints = resolver.resolve(address->host, std::to_string(address->port),
                                    tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || endpoints.empty())
    return makeError(where + ": cannot resolve host '" + address->host + "': " + ec.message());
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    beast::error_code ignored;
    acceptor.close(ignored);
    return makeError(where + ": " + ec.message());
  }
  impl_->boundPort = acceptor.local_endpoint(ec).port();
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopped = false;
  }
  impl_->accept();
  return Status::success();
}

void HttpServer::stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stopped) return;
    impl_->stopped = true;
  }
  // Sockets are not thread-safe: close them on the io thread. If the
  // io_context no longer runs, they close when it (and this state) is destroyed.
  asio::post(impl_->io, [impl = impl_] {
    beast::error_code ignored;
    impl->acceptor.close(ignored);
    impl->retryTimer.cancel();
    std::vector<std::shared_ptr<Session>> live;
    for (auto& [_, weak] : impl->sessions)
      if (auto session = weak.lock()) live.push_back(std::move(session));
    for (auto& session : live) session->close();
  });
}

unsigned short HttpServer::port() const { return impl_->boundPort.load(); }

std::size_t HttpServer::rejectedConnections() const { return impl_->rejected.load(); }

std::size_t HttpServer::evictedConnections() const { return impl_->evicted.load(); }

}  // namespace trimtab
