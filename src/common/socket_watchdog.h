// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "common/clock.h"

namespace trimtab {

// Shuts a socket down when a call overruns its deadline, so a client
// library's blocking wait (libpq, hiredis) returns with an error instead of
// hanging: a stopped server, or one that trickles a reply a byte at a time
// (each read within the per-read timeout, the whole never done). One thread
// per guarded call; stop() before the socket is closed or reused.
class SocketWatchdog {
 public:
  SocketWatchdog(int fd, Seconds deadline) : thread_([this, fd, deadline] {
    std::unique_lock lock(mu_);
    if (!cv_.wait_for(lock, std::chrono::duration<double>(deadline), [this] { return done_; })) {
      fired_ = true;
      if (fd >= 0) ::shutdown(fd, SHUT_RDWR);
    }
  }) {}
  ~SocketWatchdog() {
    if (thread_.joinable()) stop();
  }
  SocketWatchdog(const SocketWatchdog&) = delete;
  SocketWatchdog& operator=(const SocketWatchdog&) = delete;

  // Returns whether it fired.
  bool stop() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  bool fired_ = false;
  std::thread thread_;  // last: starts once the members above exist
};

}  // namespace trimtab
