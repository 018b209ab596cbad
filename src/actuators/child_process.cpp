// SPDX-License-Identifier: Apache-2.0
#include "actuators/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <mutex>
#include <set>
#include <thread>

namespace trimtab {
namespace {

// Poll granularity: short enough that a quick command returns quickly, long
// enough not to spin.
constexpr int kMaxPollMs = 20;
constexpr std::size_t kReadChunk = 4096;

Seconds steadyNow() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string errnoText(int err) { return std::strerror(err); }

// Closes on every path out of runChild.
struct Fd {
  int fd = -1;
  ~Fd() { reset(); }
  void reset() {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

struct SpawnSetup {
  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  SpawnSetup() {
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
  }
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

// Children started and not yet reaped, by pid (= their process group id).
// A pid leaves before it is reaped, so while it is here its group id cannot
// name another process: stopRunningChildren may signal it safely. `closed`
// (set by stopRunningChildren) refuses new commands: a worker freed by the
// stop must not start a queued one that would outlive trimtab.
struct RunningChildren {
  std::mutex mutex;
  std::set<int> pids;
  bool closed = false;
};
RunningChildren& running() {
  static RunningChildren* children = new RunningChildren;  // never destroyed: used up to _Exit
  return *children;
}

// Has the child exited? Leaves it unreaped (WNOWAIT) so its pid, which is
// also its process group id, cannot be reused while we may still signal it.
bool hasExited(int pid) {
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) != 0)
    return errno == ECHILD;
  return info.si_pid == pid;
}

void drain(int fd, std::string& head, std::size_t limit, bool& open) {
  char chunk[kReadChunk];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n > 0) {
      std::size_t keep = std::min(static_cast<std::size_t>(n), limit - std::min(limit, head.size()));
      head.append(chunk, keep);
      continue;
    }
    if (n == 0) open = false;
    if (n < 0 && errno == EINTR) continue;
    return;  // EAGAIN: nothing more for now
  }
}

}  // namespace

Result<std::string> findExecutable(const std::string& name, const std::string& pathList) {
  if (name.empty()) return makeError("empty program name in argv[0]");
  if (name.find('/') != std::string::npos) {
    if (::access(name.c_str(), X_OK) != 0) return makeError("cannot run '" + name + "': " + errnoText(errno));
    return name;
  }
  std::size_t start = 0;
  while (start <= pathList.size()) {
    std::size_t end = pathList.find(':', start);
    if (end == std::string::npos) end = pathList.size();
    std::string dir = pathList.substr(start, end - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    struct stat st {};
    if (::stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(candidate.c_str(), X_OK) == 0)
      return candidate;
    start = end + 1;
  }
  return makeError("executable '" + name + "' not found in PATH (" + pathList + ")");
}

Result<ChildExit> runChild(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, Seconds timeout, Seconds killGrace,
                           std::size_t stderrLimit) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return makeError("cannot create a pipe: " + errnoText(errno));
  Fd readEnd{fds[0]}, writeEnd{fds[1]};

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&setup.actions, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.actions, writeEnd.fd, 2);
  // Nothing else: a child that outlives trimtab (its timeout is up to 600 s)
  // must not hold the journal, or the listen socket a restart binds again.
  posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  // Own process group (so a timeout kills the whole tree), default signal
  // dispositions and an empty mask whatever trimtab's threads block or ignore.
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&setup.attr, 0);
  posix_spawnattr_setsigmask(&setup.attr, &none);
  posix_spawnattr_setsigdefault(&setup.attr, &all);

  std::vector<char*> args, envp;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);

  if (std::lock_guard lock(running().mutex); running().closed)
    return makeError("'" + path + "' not started: trimtab is stopping");
  const Seconds start = steadyNow();
  pid_t pid = 0;
  int rc = posix_spawn(&pid, path.c_str(), &setup.actions, &setup.attr, args.data(), envp.data());
  writeEnd.reset();
  if (rc != 0) return makeError("cannot run '" + path + "': " + errnoText(rc));
  {
    std::lock_guard lock(running().mutex);
    running().pids.insert(pid);
    if (running().closed) ::kill(-pid, SIGKILL);  // spawned while the stop was signalling
  }
  ::fcntl(readEnd.fd, F_SETFL, ::fcntl(readEnd.fd, F_GETFL) | O_NONBLOCK);

  ChildExit result;
  result.pid = pid;
  bool pipeOpen = true;
  Seconds termAt = -1;
  bool killed = false;
  while (!hasExited(pid)) {
    Seconds now = steadyNow();
    if (now - start >= timeout && termAt < 0) {
      result.timedOut = true;
      ::kill(-pid, SIGTERM);
      termAt = now;
    }
    if (termAt >= 0 && !killed && now - termAt >= killGrace) {
      ::kill(-pid, SIGKILL);
      killed = true;
    }
    Seconds nextDeadline = termAt < 0 ? start + timeout : killed ? now + 0.005 : termAt + killGrace;
    int waitMs = std::clamp(static_cast<int>((nextDeadline - now) * 1000) + 1, 1, kMaxPollMs);
    if (pipeOpen) {
      pollfd p{readEnd.fd, POLLIN, 0};
      if (::poll(&p, 1, waitMs) > 0) drain(readEnd.fd, result.stderrHead, stderrLimit, pipeOpen);
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(waitMs, 5)));
    }
  }
  if (pipeOpen) drain(readEnd.fd, result.stderrHead, stderrLimit, pipeOpen);
  {
    // Stragglers of a timed-out or stopped command (children that ignored
    // SIGTERM) go now, while the unreaped leader still pins the group id.
    std::lock_guard lock(running().mutex);
    if (result.timedOut || running().closed) ::kill(-pid, SIGKILL);
    running().pids.erase(pid);
  }
  int status = 0;
  pid_t reaped;
  while ((reaped = ::waitpid(pid, &status, 0)) < 0 && errno == EINTR) {
  }
  if (reaped != pid)
    return makeError("lost track of '" + path + "' (pid " + std::to_string(pid) + "): " + errnoText(errno) +
                     " (is SIGCHLD ignored?)");
  result.elapsed = steadyNow() - start;
  if (WIFEXITED(status)) result.exitCode = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) result.signal = WTERMSIG(status);
  return result;
}

std::size_t stopRunningChildren(Seconds grace) {
  std::size_t signalled = 0;
  {
    std::lock_guard lock(running().mutex);
    running().closed = true;
    for (int pid : running().pids) ::kill(-pid, SIGTERM);
    signalled = running().pids.size();
  }
  if (signalled == 0) return 0;
  const Seconds end = steadyNow() + grace;
  while (steadyNow() < end) {
    {
      std::lock_guard lock(running().mutex);
      // Exited leaders leave the set only when their worker reaps them, so
      // ask the kernel rather than the set.
      if (std::all_of(running().pids.begin(), running().pids.end(), hasExited)) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kMaxPollMs));
  }
  // Every group still here, leader gone or not: a leader that died on
  // SIGTERM may leave a child that ignored it.
  std::lock_guard lock(running().mutex);
  for (int pid : running().pids) ::kill(-pid, SIGKILL);
  return signalled;
}

void resumeStartingChildren() {
  std::lock_guard lock(running().mutex);
  running().closed = false;
}

}  // namespace trimtab
