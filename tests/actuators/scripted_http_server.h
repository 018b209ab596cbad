// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <utility>  // before asio: Boost 1.74 misses it in C++20 mode

#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
// GCC 12 with ASan reports a false maybe-uninitialized inside Beast's parser.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#pragma GCC diagnostic pop

namespace trimtab::testing {

// A loopback HTTP server for actuator tests: records every request and
// answers with scripted statuses (then `defaultStatus`), or never answers
// (`silent`). Runs on its own thread until destroyed.
class ScriptedHttpServer {
 public:
  struct Received {
    std::string method;
    std::string target;
    std::string body;
    std::map<std::string, std::string> headers;  // lower-case names
  };

  explicit ScriptedHttpServer(std::deque<int> statuses = {}, int defaultStatus = 200)
      : statuses_(std::move(statuses)), defaultStatus_(defaultStatus), acceptor_(io_) {
    namespace asio = boost::asio;
    asio::ip::tcp::endpoint endpoint(asio::ip::make_address("127.0.0.1"), 0);
    acceptor_.open(endpoint.protocol());
    acceptor_.bind(endpoint);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }

  ~ScriptedHttpServer() {
    io_.stop();
    thread_.join();
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_) s->close(ignored);
  }

  unsigned short port() const { return port_; }
  std::string url(const std::string& path = "/knob") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

  void setDefaultStatus(int status) {
    std::lock_guard lock(mu_);
    defaultStatus_ = status;
  }
  void setSilent(bool silent) {
    std::lock_guard lock(mu_);
    silent_ = silent;
  }
  // Every response carries this body (empty: the default "scripted\n").
  void setBody(std::string body) {
    std::lock_guard lock(mu_);
    body_ = std::move(body);
  }
  // The response body repeats this request header's value (secret-leak tests).
  void echoHeader(std::string name) {
    std::lock_guard lock(mu_);
    echoHeader_ = std::move(name);
  }
  std::vector<Received> received() const {
    std::lock_guard lock(mu_);
    return received_;
  }

 private:
  using Socket = boost::asio::ip::tcp::socket;
  struct Conn {
    std::shared_ptr<Socket> socket;
    boost::beast::flat_buffer buffer;
    boost::beast::http::request<boost::beast::http::string_body> request;
    boost::beast::http::response<boost::beast::http::string_body> response;
  };

  void accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, Socket socket) {
      if (ec) return;
      auto conn = std::make_shared<Conn>();
      conn->socket = std::make_shared<Socket>(std::move(socket));
      sockets_.push_back(conn->socket);
      read(conn);
      accept();
    });
  }

  void read(std::shared_ptr<Conn> conn) {
    conn->request = {};
    boost::beast::http::async_read(*conn->socket, conn->buffer, conn->request,
                                   [this, conn](boost::system::error_code ec, std::size_t) {
                                     if (!ec) answer(conn);
                                   });
  }

  void answer(std::shared_ptr<Conn> conn) {
    namespace http = boost::beast::http;
    int status;
    {
      std::lock_guard lock(mu_);
      Received r;
      r.method = std::string(conn->request.method_string());
      r.target = std::string(conn->request.target());
      r.body = conn->request.body();
      for (const auto& field : conn->request) {
        std::string name(field.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers[name] = std::string(field.value());
      }
      received_.push_back(r);
      if (silent_) return;  // keep the socket open, never answer
      if (!statuses_.empty()) {
        status = statuses_.front();
        statuses_.pop_front();
      } else {
        status = defaultStatus_;
      }
      conn->response = {static_cast<http::status>(status), 11};
      if (status != 204 && status != 304)  // they may not carry a body
        conn->response.body() = !echoHeader_.empty() ? "echo " + std::string(conn->request[echoHeader_])
                                : body_.empty()      ? std::string("scripted\n")
                                                     : body_;
    }
    conn->response.keep_alive(conn->request.keep_alive());
    conn->response.prepare_payload();
    http::async_write(*conn->socket, conn->response, [this, conn](boost::system::error_code ec, std::size_t) {
      if (!ec && conn->response.keep_alive()) read(conn);
    });
  }

  mutable std::mutex mu_;
  std::deque<int> statuses_;
  int defaultStatus_;
  bool silent_ = false;
  std::string echoHeader_;
  std::string body_;
  std::vector<Received> received_;

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<Socket>> sockets_;  // io thread only
  unsigned short port_ = 0;
  std::thread thread_;
};

}  // namespace trimtab::testing
