// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/result.h"

namespace trimtab {

// How a child ended.
struct ChildExit {
  int pid = 0;
  bool timedOut = false;   // killed by us after the timeout
  int exitCode = -1;       // when it exited by itself
  int signal = 0;          // when a signal ended it
  std::string stderrHead;  // the first `stderrLimit` bytes of its stderr
  Seconds elapsed = 0;
};

// Runs `path` with `argv` and `env` ("NAME=value" entries) in a new process
// group, stdin/stdout on /dev/null, stderr captured (bounded). Past `timeout`
// the group gets SIGTERM, then SIGKILL after `killGrace`; whatever is left
// of the group after a timeout is SIGKILLed before the child is reaped.
// Error when the program cannot be started (message names it and why).
//
// Thread safety: callable from several threads at once (pipes are close-on-exec).
Result<ChildExit> runChild(const std::string& path, const std::vector<std::string>& argv,
                           const std::vector<std::string>& env, Seconds timeout, Seconds killGrace,
                           std::size_t stderrLimit);

// For a process about to exit while commands still run (trimtab's forced
// stop): SIGTERM to the process group of every child runChild has started
// and not yet reaped, then, once they have exited or `grace` has passed,
// SIGKILL to every such group (a child that ignored SIGTERM may outlive its
// leader), so no command outlives trimtab unnoticed. From then on runChild
// starts nothing (an Error says trimtab is stopping). Returns how many were
// signalled. Their runChild calls, if anyone still waits on them, see a
// signal exit.
std::size_t stopRunningChildren(Seconds grace);
// Lets runChild start commands again after stopRunningChildren (tests: the
// process itself exits right after a stop).
void resumeStartingChildren();

// The program to execute for `name`: itself when it contains '/', else the
// first executable match in `pathList` (colon-separated). Error says which.
Result<std::string> findExecutable(const std::string& name, const std::string& pathList);

}  // namespace trimtab
