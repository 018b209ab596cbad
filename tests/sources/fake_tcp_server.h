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

namespace trimtab::testing {

// A loopback TCP server for protocol fakes (a scripted Redis): for every
// chunk a client sends (a synchronous client sends one command per chunk),
// `handler` returns bytes to write back ("" writes nothing: a silent server).
// Connections are served one at a time; bounded by stop().
class FakeTcpServer {
 public:
  using Handler = std::function<std::string(const std::string& chunk)>;

  explicit FakeTcpServer(Handler handler, bool acceptConnections = true)
      : handler_(std::move(handler)), accept_(acceptConnections) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd_, 16) != 0)
      throw std::runtime_error("fake server: cannot listen");
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    // Without accept, the kernel still completes handshakes: a server that never answers.
    if (accept_) thread_ = std::thread([this] { run(); });
  }
  ~FakeTcpServer() { stop(); }

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // Replies go out one byte every `seconds` (0: at once): a server that
  // trickles, each read within a read timeout, the reply never done.
  void setTrickle(double seconds) { trickle_ = seconds; }
  int port() const { return port_; }
  int connections() const { return connections_; }
  std::string received() const {
    std::lock_guard lock(mu_);
    return all_;
  }

 private:
  void run() {
    constexpr int kPollMs = 20;
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, kPollMs) <= 0) continue;
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) continue;
      ++connections_;
      while (!stop_) {
        pollfd c{client, POLLIN, 0};
        if (::poll(&c, 1, kPollMs) <= 0) continue;
        char buf[4096];
        ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) break;
        std::string chunk(buf, static_cast<std::size_t>(n));
        {
          std::lock_guard lock(mu_);
          all_.append(buf, static_cast<std::size_t>(n));
        }
        std::string reply = handler_(chunk);
        if (trickle_ > 0) {
          for (std::size_t i = 0; i < reply.size() && !stop_; ++i) {
            if (::send(client, reply.data() + i, 1, MSG_NOSIGNAL) != 1) break;
            std::this_thread::sleep_for(std::chrono::duration<double>(trickle_.load()));
          }
        } else if (!reply.empty()) {
          ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
        }
      }
      ::close(client);
    }
  }

  Handler handler_;
  bool accept_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<double> trickle_{0};
  std::atomic<int> connections_{0};
  mutable std::mutex mu_;
  std::string all_;
  std::thread thread_;
};

}  // namespace trimtab::testing
