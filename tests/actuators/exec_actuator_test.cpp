// SPDX-License-Identifier: Apache-2.0
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>

#include "actuators/child_process.h"
#include "actuators/exec_actuator.h"
#include "actuator_test_support.h"

namespace trimtab {
namespace {

using testing::build;
using testing::Params;
using testing::goneWithin;
using testing::processAlive;
using testing::readFile;
using testing::request;
using testing::TempDir;

ActuationOutcome run(std::vector<std::string> argv, Seconds timeout = 5, Seconds killGrace = 1,
                     std::map<std::string, std::string> env = {}) {
  ExecActuatorOptions options;
  options.argv = std::move(argv);
  options.timeout = timeout;
  options.killGrace = killGrace;
  options.env = std::move(env);
  return ExecActuator(options).apply(request());
}

int pidFrom(const std::string& file) {
  std::string text = readFile(file);
  return text.empty() ? 0 : std::stoi(text);
}

TEST_CASE("exec actuator: exit code 0 is success, anything else is not") {
  auto ok = run({"/bin/true"});
  CHECK(ok.ok);
  CHECK(ok.effective);
  CHECK(ok.attempts == 1);
  CHECK(ok.detail == "exit code 0");

  auto fail = run({"/bin/false"});
  CHECK_FALSE(fail.ok);
  CHECK(fail.detail == "exit code 1");
}

TEST_CASE("exec actuator reports the start of stderr") {
  auto outcome = run({"/bin/sh", "-c", "echo 'pool is locked' >&2; exit 3"});
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.detail == "exit code 3: pool is locked");

  auto flood = run({"/bin/sh", "-c", "head -c 100000 /dev/zero | tr '\\0' x >&2; exit 2"});
  CHECK_FALSE(flood.ok);
  CHECK(flood.detail.rfind("exit code 2: xxx", 0) == 0);
  CHECK(flood.detail.size() <= std::string("exit code 2: ").size() + kExecStderrExcerptBytes + 3);
}

TEST_CASE("exec actuator substitutes placeholders without a shell") {
  TempDir dir;
  std::string out = dir.file("out");
  auto outcome = run({"/bin/sh", "-c", "echo \"$0 $1 $2 [$FROM_ENV] $TRIMTAB_REASON\" > " + out, "{value}",
                      "{knob}", "{previous}"},
                     5, 1, {{"FROM_ENV", "v={value}"}});
  REQUIRE(outcome.ok);
  CHECK(readFile(out) == "25 pool 20 [v=25] queue long\n");

  // An argument is one argv element whatever it holds: no word splitting.
  std::string odd = dir.file("odd");
  ExecActuatorOptions options;
  options.argv = {"/bin/sh", "-c", "printf '%s|' \"$@\" > " + odd, "sh", "{reason}"};
  auto r = request(1, 0, "a b; $(echo x) `id`");
  REQUIRE(ExecActuator(options).apply(r).ok);
  CHECK(readFile(odd) == "a b; $(echo x) `id`|");
}

TEST_CASE("exec actuator: the command inherits a short list of trimtab's variables, not its secrets") {
  // A config reads passwords as env:NAME, so they sit in trimtab's
  // environment; only PATH-like variables and `pass_env` reach the child.
  ::setenv("TRIMTAB_TEST_SECRET", "hunter2", 1);
  ::setenv("TRIMTAB_TEST_PASSED", "yes", 1);
  ::setenv("LC_TRIMTAB_TEST", "C", 1);
  TempDir dir;
  std::string out = dir.file("env");
  ExecActuatorOptions options;
  options.argv = {"/bin/sh", "-c", "env > " + out};
  options.env = {{"SET_HERE", "v={value}"}};
  REQUIRE(ExecActuator(options).apply(request()).ok);
  std::string seen = readFile(out);
  CHECK(seen.find("hunter2") == std::string::npos);
  CHECK(seen.find("TRIMTAB_TEST_PASSED") == std::string::npos);
  CHECK(seen.find("LC_TRIMTAB_TEST=C\n") != std::string::npos);
  CHECK(seen.find("SET_HERE=v=25\n") != std::string::npos);
  CHECK(seen.find("TRIMTAB_VALUE=25\n") != std::string::npos);
  if (const char* path = std::getenv("PATH")) CHECK(seen.find(std::string("PATH=") + path + "\n") != std::string::npos);

  options.passEnv = {"TRIMTAB_TEST_PASSED"};
  REQUIRE(ExecActuator(options).apply(request()).ok);
  seen = readFile(out);
  CHECK(seen.find("TRIMTAB_TEST_PASSED=yes\n") != std::string::npos);
  CHECK(seen.find("hunter2") == std::string::npos);
  ::unsetenv("TRIMTAB_TEST_SECRET");
  ::unsetenv("TRIMTAB_TEST_PASSED");
  ::unsetenv("LC_TRIMTAB_TEST");
}

TEST_CASE("exec actuator: the command inherits stdin, stdout and stderr only") {
  // An open descriptor of trimtab's own (without close-on-exec, like a
  // listen socket): a child that outlived trimtab held it.
  TempDir dir;
  std::string held = dir.file("held");
  int fd = ::open(held.c_str(), O_WRONLY | O_CREAT, 0600);
  REQUIRE(fd > 2);
  std::string out = dir.file("fds");
  std::string path = "/proc/$$/fd/" + std::to_string(fd);
  auto outcome = run({"/bin/sh", "-c",
                      "for f in 0 1 2; do test -e /proc/$$/fd/$f || exit 8; done; "
                      "test -e " + path + " && exit 7; echo done > " + out});
  ::close(fd);
  REQUIRE(outcome.ok);
  CHECK(readFile(out) == "done\n");
  CHECK_MESSAGE(outcome.detail == "exit code 0", outcome.detail);
}

TEST_CASE("exec actuator kills a command past its timeout, with its process group") {
  TempDir dir;
  std::string leader = dir.file("leader"), child = dir.file("child");
  auto outcome = run({"/bin/sh", "-c", "sleep 10 & echo $! > " + child + "; echo $$ > " + leader + "; wait"}, 0.2);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.detail.find("timed out after 0.2s") != std::string::npos);
  int leaderPid = pidFrom(leader), childPid = pidFrom(child);
  REQUIRE(leaderPid > 0);
  REQUIRE(childPid > 0);
  CHECK_FALSE(processAlive(leaderPid));  // reaped before apply() returned
  CHECK(goneWithin(childPid, 5));         // SIGTERM/SIGKILL sent to its group
}

TEST_CASE("exec actuator escalates to SIGKILL when SIGTERM is ignored") {
  TempDir dir;
  std::string leader = dir.file("leader");
  auto outcome = run({"/bin/sh", "-c", "trap '' TERM; echo $$ > " + leader + "; sleep 10; sleep 10"}, 0.2, 0.1);
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.detail.find("timed out") != std::string::npos);
  int pid = pidFrom(leader);
  REQUIRE(pid > 0);
  CHECK_FALSE(processAlive(pid));
}

// trimtab's forced stop (a command still running 15 s after SIGTERM) calls
// stopRunningChildren before it exits: no command may outlive it.
TEST_CASE("stopRunningChildren ends running commands' groups, SIGKILL for those that ignore SIGTERM") {
  CHECK(stopRunningChildren(0.1) == 0);  // nothing running: nothing signalled, no wait
  resumeStartingChildren();
  TempDir dir;
  const std::string polite = dir.file("polite"), grandchild = dir.file("grandchild"), stubborn = dir.file("stubborn"),
                    orphanLeader = dir.file("orphan_leader"), straggler = dir.file("straggler");
  // A leader that dies on SIGTERM with a child that dies too; a leader that
  // ignores SIGTERM; a leader that dies on SIGTERM leaving a child that ignores it.
  auto first = std::async(std::launch::async, [&] {
    return run({"/bin/sh", "-c", "sleep 30 & echo $! > " + grandchild + "; echo $$ > " + polite + "; wait"}, 60);
  });
  auto second = std::async(std::launch::async, [&] {
    return run({"/bin/sh", "-c", "trap '' TERM; echo $$ > " + stubborn + "; sleep 30; sleep 30"}, 60);
  });
  auto third = std::async(std::launch::async, [&] {
    return run({"/bin/sh", "-c",
                "(trap '' TERM; exec sleep 30) & echo $! > " + straggler + "; echo $$ > " + orphanLeader + "; wait"},
               60);
  });
  auto started = [&] {
    for (const auto& f : {polite, grandchild, stubborn, orphanLeader, straggler})
      if (pidFrom(f) == 0) return false;
    return true;
  };
  for (int i = 0; i < 500 && !started(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  REQUIRE(started());
  const int stragglerPid = pidFrom(straggler), grandchildPid = pidFrom(grandchild);

  CHECK(stopRunningChildren(0.3) == 3);
  // Every apply() returns (each would otherwise wait 60 s) with a signal exit.
  for (auto* f : {&first, &second, &third})
    REQUIRE(f->wait_for(std::chrono::seconds(10)) == std::future_status::ready);
  const ActuationOutcome politeOutcome = first.get(), stubbornOutcome = second.get(), orphanOutcome = third.get();
  CHECK(politeOutcome.detail.find("killed by SIGTERM") != std::string::npos);
  CHECK(stubbornOutcome.detail.find("killed by SIGKILL") != std::string::npos);
  CHECK(orphanOutcome.detail.find("killed by SIGTERM") != std::string::npos);
  CHECK_FALSE(processAlive(pidFrom(polite)));
  CHECK_FALSE(processAlive(pidFrom(stubborn)));
  CHECK(goneWithin(grandchildPid, 5));  // the whole group, not only the leader
  CHECK(goneWithin(stragglerPid, 5));   // SIGKILL for a child that ignored SIGTERM after its leader died

  // Stopped: nothing new starts, until resumed.
  const ActuationOutcome refused = run({"/bin/true"});
  CHECK_FALSE(refused.ok);
  CHECK(refused.detail.find("not started: trimtab is stopping") != std::string::npos);
  resumeStartingChildren();
  CHECK(run({"/bin/true"}).ok);
  CHECK(stopRunningChildren(0.1) == 0);  // reaped children are no longer tracked
  resumeStartingChildren();
}

TEST_CASE("exec actuator names a program it cannot run") {
  auto absent = run({"/nonexistent/trimtab-tool", "x"});
  CHECK_FALSE(absent.ok);
  CHECK(absent.attempts == 0);
  CHECK(absent.detail.find("/nonexistent/trimtab-tool") != std::string::npos);
  CHECK(absent.detail.find("No such file") != std::string::npos);

  auto unknown = run({"trimtab-no-such-program"});
  CHECK_FALSE(unknown.ok);
  CHECK(unknown.detail.find("'trimtab-no-such-program' not found in PATH") != std::string::npos);

  auto found = run({"true"});  // found in PATH
  CHECK(found.ok);

  TempDir dir;
  std::string plain = dir.file("not-executable");
  { std::ofstream(plain) << "#!/bin/sh\n"; }
  auto denied = run({plain});
  CHECK_FALSE(denied.ok);
  CHECK(denied.detail.find("Permission denied") != std::string::npos);
}

TEST_CASE("exec actuator settings") {
  SUBCASE("missing argv names the key") {
    Params params("timeout: 1s\n");
    auto actuator = build("exec", params);
    REQUIRE_FALSE(actuator.ok());
    CHECK(params.mentions("argv", "missing required key"));
    CHECK(actuator.error().message.find("argv") != std::string::npos);
  }
  SUBCASE("refused settings name their key") {
    struct Bad {
      const char* yaml;
      const char* key;
      const char* words;
    };
    for (const Bad& bad : {Bad{"argv: []\n", "argv", "non-empty list"},
                           Bad{"argv: [/bin/true]\ntimeout: 0s\n", "timeout", "above 0"},
                           Bad{"argv: [/bin/true]\npass_env: [GOOD, 'A=B']\n", "pass_env",
                               "invalid environment variable name 'A=B'"},
                           Bad{"argv: [/bin/true]\npass_env: TOKEN\n", "pass_env", "expected a list"}}) {
      Params params(bad.yaml);
      CAPTURE(bad.yaml);
      REQUIRE_FALSE(build("exec", params).ok());
      CHECK(params.mentions(bad.key, bad.words));
    }
  }
  SUBCASE("valid, built from the registry, applied") {
    Params params("argv: [/bin/sh, -c, 'test \"$1\" = 25', sh, '{value}']\ntimeout: 2s\nenv: {A: b}\n");
    auto actuator = build("exec", params);
    REQUIRE_MESSAGE(actuator.ok(), params.diagnostics->format());
    CHECK((*actuator)->apply(request(25)).ok);
    CHECK_FALSE((*actuator)->apply(request(26)).ok);
  }
}

}  // namespace
}  // namespace trimtab
