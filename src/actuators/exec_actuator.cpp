// SPDX-License-Identifier: Apache-2.0
#include "actuators/exec_actuator.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <cstdlib>

#include <fmt/format.h>

#include "actuators/actuator_support.h"
#include "actuators/child_process.h"

extern char** environ;

namespace trimtab {

TRIMTAB_REGISTER(ActuatorRegistry, "exec", ExecActuator::create);

namespace {

using namespace actuator_support;

constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";
constexpr Seconds kMaxKillGrace = 30;

// Inherited by default: what a program needs to find its tools, files,
// locale and time zone. Everything else in trimtab's environment stays
// behind, above all the secrets a config names as `env:NAME` (passwords,
// tokens), unless `pass_env` names it.
bool inheritedByDefault(const std::string& name) {
  static const char* const kNames[] = {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LANGUAGE", "TZ", "TMPDIR"};
  for (const char* n : kNames)
    if (name == n) return true;
  return name.rfind("LC_", 0) == 0;
}

// The allowed part of trimtab's environment, then `overrides`, then the
// request's values.
std::vector<std::string> childEnvironment(const ExecActuatorOptions& options, const ActuationRequest& request,
                                          std::string& pathList) {
  std::map<std::string, std::string> env;
  for (char** e = environ; e && *e; ++e) {
    std::string entry(*e);
    auto eq = entry.find('=');
    if (eq == std::string::npos) continue;
    std::string name = entry.substr(0, eq);
    if (inheritedByDefault(name) || options.passEnv.count(name)) env.emplace(std::move(name), entry.substr(eq + 1));
  }
  for (const auto& [name, value] : options.env) env[name] = substitute(value, request);
  env["TRIMTAB_KNOB"] = request.knob;
  env["TRIMTAB_VALUE"] = formatValue(request.value);
  env["TRIMTAB_PREVIOUS"] = formatValue(request.previous);
  env["TRIMTAB_REASON"] = request.reason;
  auto path = env.find("PATH");
  pathList = path == env.end() ? kDefaultPath : path->second;
  std::vector<std::string> out;
  out.reserve(env.size());
  for (const auto& [name, value] : env) out.push_back(name + "=" + value);
  return out;
}

bool validEnvName(const std::string& name) { return !name.empty() && name.find('=') == std::string::npos; }

std::string signalName(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  return abbrev ? fmt::format("SIG{}", abbrev) : fmt::format("signal {}", sig);
}

}  // namespace

Result<ExecActuatorOptions> ExecActuator::parseOptions(ConfigNode& params) {
  std::size_t before = diagnosticCount(params);
  ExecActuatorOptions o;
  if (!params.has("argv")) {
    params.error("argv", "missing required key 'argv': the command as a list, e.g. [\"/usr/local/bin/resize\", \"{value}\"]");
  } else {
    o.argv = params.getStringList("argv");
    if (o.argv.empty() || o.argv.front().empty())
      params.error("argv", "expected a non-empty list whose first element is the program to run");
  }
  o.timeout = params.getDuration("timeout", o.timeout);
  if (!(o.timeout > 0 && o.timeout <= kExecMaxTimeout))
    params.error("timeout", fmt::format("expected a duration above 0 and at most {}s", kExecMaxTimeout));
  o.killGrace = params.getDuration("kill_grace", o.killGrace);
  if (!(o.killGrace >= 0 && o.killGrace <= kMaxKillGrace))
    params.error("kill_grace", fmt::format("expected a duration from 0 to {}s", kMaxKillGrace));
  o.env = params.getStringMap("env");
  for (const auto& [name, _] : o.env)
    if (!validEnvName(name)) params.error("env", "invalid environment variable name '" + name + "'");
  for (const auto& name : params.getStringList("pass_env")) {
    if (!validEnvName(name)) params.error("pass_env", "invalid environment variable name '" + name + "'");
    o.passEnv.insert(name);
  }
  params.finish();
  if (auto status = newDiagnostics(params, before); !status) return status.error();
  return o;
}

Result<std::unique_ptr<Actuator>> ExecActuator::create(ConfigNode& params, const ActuatorContext&) {
  auto options = parseOptions(params);
  if (!options) return options.error();
  return std::unique_ptr<Actuator>(std::make_unique<ExecActuator>(std::move(*options)));
}

ActuationOutcome ExecActuator::apply(const ActuationRequest& request) {
  ActuationOutcome outcome;
  std::vector<std::string> argv;
  argv.reserve(options_.argv.size());
  for (const auto& arg : options_.argv) argv.push_back(substitute(arg, request));
  std::string pathList;
  std::vector<std::string> env = childEnvironment(options_, request, pathList);
  auto program = findExecutable(argv.front(), pathList);
  if (!program) {
    outcome.detail = program.error().message;
    return outcome;
  }
  auto run = runChild(*program, argv, env, options_.timeout, options_.killGrace, kExecStderrExcerptBytes);
  if (!run) {
    outcome.detail = run.error().message;
    return outcome;
  }
  outcome.attempts = 1;
  outcome.latency = run->elapsed;
  if (run->timedOut) {
    outcome.detail = fmt::format("{} timed out after {}s; process group killed", argv.front(), options_.timeout);
  } else if (run->signal != 0) {
    outcome.detail = fmt::format("{} killed by {}", argv.front(), signalName(run->signal));
  } else if (run->exitCode != 0) {
    outcome.detail = fmt::format("exit code {}", run->exitCode);
  } else {
    outcome.ok = outcome.effective = true;
    outcome.detail = "exit code 0";
    return outcome;
  }
  if (std::string text = excerpt(run->stderrHead, kExecStderrExcerptBytes); !text.empty())
    outcome.detail += ": " + text;
  return outcome;
}

}  // namespace trimtab
