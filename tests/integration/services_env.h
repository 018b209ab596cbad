// SPDX-License-Identifier: Apache-2.0
#pragma once

// The real servers of the integration tests, started by `scripts/services
// start DIR` (scripts/test does it): their addresses and passwords come from
// DIR/env, named by TRIMTAB_SERVICES_ENV. Without it every test fails with a
// message saying how to start them, unless TRIMTAB_SKIP_INTEGRATION=1 (then
// each test says it was skipped).

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace trimtab::integration {

// Bounded polling: every loop in these tests waits at most this long.
inline constexpr double kPollStep = 0.2;

class Services {
 public:
  // nullopt when the environment is not set up (the caller fails or skips).
  static const Services* get() {
    static std::optional<Services> services = load();
    return services ? &*services : nullptr;
  }

  std::string operator[](const std::string& key) const {
    auto it = values_.find(key);
    return it == values_.end() ? std::string() : it->second;
  }
  const std::string& dir() const { return dir_; }

  // scripts/services kill|start DIR NAME; true on exit code 0.
  bool run(const std::string& command, const std::string& name) const {
    std::string line = std::string(TRIMTAB_SOURCE_DIR) + "/scripts/services " + command + " '" + dir_ + "' " + name +
                       " >/dev/null 2>&1";
    return std::system(line.c_str()) == 0;
  }

 private:
  static std::optional<Services> load() {
    const char* path = std::getenv("TRIMTAB_SERVICES_ENV");
    if (!path || !*path) return std::nullopt;
    std::ifstream in(path);
    if (!in) return std::nullopt;
    Services s;
    std::string line;
    while (std::getline(in, line)) {
      auto eq = line.find('=');
      if (eq == std::string::npos || line.empty() || line[0] == '#') continue;
      std::string key = line.substr(0, eq), value = line.substr(eq + 1);
      if (value.size() >= 2 && value.front() == '\'' && value.back() == '\'') value = value.substr(1, value.size() - 2);
      s.values_[key] = value;
      // Configs name secrets by variable (password: env:REDIS_PASSWORD), as in production.
      ::setenv(key.c_str(), value.c_str(), 1);
    }
    s.dir_ = s.values_["SERVICES_DIR"];
    if (s.dir_.empty()) return std::nullopt;
    return s;
  }

  std::map<std::string, std::string> values_;
  std::string dir_;
};

inline void sleepFor(double seconds) { std::this_thread::sleep_for(std::chrono::duration<double>(seconds)); }

// Polls `done` every kPollStep until it holds or `limit` seconds passed.
template <class F>
bool eventually(double limit, F&& done) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(limit);
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() >= end) return false;
    sleepFor(kPollStep);
  }
}

// A child process killed (SIGTERM, then SIGKILL) and reaped on destruction.
class Background {
 public:
  Background(const std::string& path, const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    pid_ = ::fork();
    if (pid_ == 0) {
      std::vector<char*> args, envp;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
      envp.push_back(nullptr);
      ::setpgid(0, 0);
      int devnull = ::open("/dev/null", O_WRONLY);
      if (devnull >= 0) ::dup2(devnull, STDOUT_FILENO);
      ::execve(path.c_str(), args.data(), envp.data());
      ::_exit(127);
    }
  }
  ~Background() { stop(); }
  Background(const Background&) = delete;
  Background& operator=(const Background&) = delete;

  bool running() {
    if (pid_ <= 0) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    return true;
  }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(-pid_, SIGTERM);
    if (!eventually(5, [&] { return !running(); })) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

 private:
  pid_t pid_ = -1;
};

}  // namespace trimtab::integration

// Opens an integration test: fails when the servers are not set up (never a
// silent pass), or skips with a message when TRIMTAB_SKIP_INTEGRATION=1.
#define TRIMTAB_REQUIRE_SERVICES(var)                                                                          \
  const char* trimtab_skip_ = std::getenv("TRIMTAB_SKIP_INTEGRATION");                                        \
  if (trimtab_skip_ && std::string(trimtab_skip_) == "1") {                                                    \
    MESSAGE("skipped: TRIMTAB_SKIP_INTEGRATION=1");                                                            \
    return;                                                                                                    \
  }                                                                                                            \
  const ::trimtab::integration::Services* var = ::trimtab::integration::Services::get();                       \
  if (!var)                                                                                                    \
    FAIL("TRIMTAB_SERVICES_ENV is not set (or its file is unreadable): run scripts/test, or "                  \
         "`scripts/services start DIR` and export TRIMTAB_SERVICES_ENV=DIR/env; set TRIMTAB_SKIP_INTEGRATION=1 " \
         "to skip these tests on purpose")
