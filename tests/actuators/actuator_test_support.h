// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "actuators/actuator.h"
#include "common/config_node.h"

namespace trimtab::testing {

// Params parsed from inline YAML, with their diagnostics sink.
struct Params {
  explicit Params(const std::string& yaml)
      : diagnostics(std::make_shared<ConfigDiagnostics>()),
        node(ConfigNode::loadString(yaml, "test.yaml", diagnostics)) {}
  std::shared_ptr<ConfigDiagnostics> diagnostics;
  ConfigNode node;

  bool mentions(const std::string& path, const std::string& words) const {
    for (const auto& d : diagnostics->items())
      if (d.path == path && d.message.find(words) != std::string::npos) return true;
    return false;
  }
};

// Builds an actuator by registry name, as the controller does.
inline Result<std::unique_ptr<Actuator>> build(const std::string& kind, Params& params,
                                               ActuatorContext context = {}) {
  const auto* factory = ActuatorRegistry::instance().find(kind);
  if (!factory) return makeError("no actuator '" + kind + "'");
  return (*factory)(params.node, context);
}

inline ActuationRequest request(double value = 25, double previous = 20, std::string reason = "queue long") {
  ActuationRequest r;
  r.knob = "pool";
  r.value = value;
  r.previous = previous;
  r.reason = std::move(reason);
  r.time = 1000;
  return r;
}

// A fresh directory per call, removed with the object.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("trimtab_actuators_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Alive and not a zombie (an orphan's zombie may wait for a lazy init).
inline bool processAlive(int pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return false;
  std::string line;
  std::getline(stat, line);
  auto close = line.rfind(')');
  if (close == std::string::npos || close + 2 >= line.size()) return false;
  char state = line[close + 2];
  return state != 'Z' && state != 'X';
}

// Signals take effect asynchronously: a killed process may run a little
// longer than kill(). Bounded wait for it to be gone.
inline bool goneWithin(int pid, double seconds) {
  constexpr int kStepMs = 10;
  for (int waited = 0; waited <= seconds * 1000; waited += kStepMs) {
    if (!processAlive(pid)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(kStepMs));
  }
  return false;
}

}  // namespace trimtab::testing
