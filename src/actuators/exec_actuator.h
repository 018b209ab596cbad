// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "actuators/actuator.h"

namespace trimtab {

// Settings of the `exec` actuator (keys in docs/config.md).
struct ExecActuatorOptions {
  std::vector<std::string> argv;            // argv: program and arguments (required; no shell)
  Seconds timeout = 5;                      // timeout: then SIGTERM to the process group
  Seconds killGrace = 1;                    // kill_grace: SIGTERM -> SIGKILL delay
  std::map<std::string, std::string> env;   // env: set in the child's environment, placeholders as in argv
  std::set<std::string> passEnv;            // pass_env: more of trimtab's variables the child inherits
};

inline constexpr Seconds kExecMaxTimeout = 600;
inline constexpr std::size_t kExecStderrExcerptBytes = 200;

// Runs a command for each change: argv with {knob} {value} {previous}
// {reason} substituted in each argument (and in env values), without a
// shell. The child also gets TRIMTAB_KNOB, TRIMTAB_VALUE, TRIMTAB_PREVIOUS
// and TRIMTAB_REASON; stdin and stdout are /dev/null, stderr is captured.
//
// Of trimtab's own environment the child inherits only PATH, HOME, USER,
// LOGNAME, LANG, LANGUAGE, LC_*, TZ and TMPDIR, plus the names in
// `pass_env`: the passwords and tokens a config reads as `env:NAME` are in
// that environment, and a resize script has no business seeing them.
//
// The program is found in PATH when argv[0] has no '/'. It runs in its own
// process group; past `timeout` the group gets SIGTERM, then SIGKILL after
// `killGrace`, so apply() returns within timeout + killGrace (+ reaping).
// Exit code 0 is success; otherwise the detail is "exit code N: <first 200
// bytes of stderr>".
//
// REQUIRES: SIGCHLD is not ignored (waitpid must see the child).
class ExecActuator final : public Actuator {
 public:
  explicit ExecActuator(ExecActuatorOptions options) : options_(std::move(options)) {}
  static Result<ExecActuatorOptions> parseOptions(ConfigNode& params);
  static Result<std::unique_ptr<Actuator>> create(ConfigNode& params, const ActuatorContext& context);
  ActuationOutcome apply(const ActuationRequest& request) override;

 private:
  ExecActuatorOptions options_;
};

}  // namespace trimtab
