// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/iostreams/device/back_inserter.hpp>
#include <boost/iostreams/filter/gzip.hpp>
#include <boost/iostreams/filtering_stream.hpp>

namespace trimtab::testing {

// What the server answers: raw bytes (status line, headers, body), sent after
// `delaySeconds` (a slow server). The delay is cut short when the server stops.
struct TestReply {
  std::string raw;
  double delaySeconds = 0;
};

inline TestReply httpReply(int status, const std::string& body,
                           const std::string& contentType = "text/plain; version=0.0.4",
                           const std::string& extraHeaders = "") {
  return {"HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: " + contentType +
          "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extraHeaders +
          "Connection: close\r\n\r\n" + body};
}

inline std::string gzipString(const std::string& data) {
  std::string out;
  boost::iostreams::filtering_ostream os;
  os.push(boost::iostreams::gzip_compressor());
  os.push(boost::iostreams::back_inserter(out));
  os.write(data.data(), static_cast<std::streamsize>(data.size()));
  os.reset();
  return out;
}

// A one-connection-at-a-time HTTP server on 127.0.0.1, port chosen by the
// kernel, running on its own thread. Reads one request head per connection,
// records it, answers with what the handler returns, closes. Every wait is
// bounded by a poll timeout so the destructor always joins promptly.
class TestHttpServer {
 public:
  using Handler = std::function<TestReply(const std::string& request)>;

  explicit TestHttpServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 8) != 0) {
      throw std::runtime_error("test server: bind/listen failed");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { loop(); });
  }
  ~TestHttpServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url(const std::string& path = "/metrics") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  static constexpr int kPollMs = 20;
  static constexpr std::size_t kMaxRequestBytes = 1 << 20;

  bool waitReadable(int fd) const {
    while (!stop_) {
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, kPollMs);
      if (n > 0) return true;
      if (n < 0) return false;
    }
    return false;
  }

  void loop() {
    while (waitReadable(fd_)) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      serve(client);
      ::close(client);
    }
  }

  void serve(int client) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos && request.size() < kMaxRequestBytes) {
      if (!waitReadable(client)) return;
      ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) return;
      request.append(buf, static_cast<std::size_t>(n));
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request);
    }
    TestReply reply = handler_(request);
    auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(reply.delaySeconds);
    while (!stop_ && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(kPollMs));
    }
    std::size_t sent = 0;
    while (!stop_ && sent < reply.raw.size()) {
      ssize_t n = ::send(client, reply.raw.data() + sent, reply.raw.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return;
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(client, SHUT_WR);
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  mutable std::mutex mutex_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// A loopback port with nothing listening (bound, then closed).
inline int closedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace trimtab::testing
