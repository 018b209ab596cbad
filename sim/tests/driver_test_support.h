// SPDX-License-Identifier: Apache-2.0
// Helpers for the driver's tests: a scratch directory and small scenarios.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "sim/driver/scenario.h"

namespace trimtab::sim::testing {

// A fresh directory under /tmp, removed at the end of the test.
struct ScratchDir {
  std::filesystem::path path;
  explicit ScratchDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / ("trimtab-simdrv-" + name + "-" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
  }
  ~ScratchDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string& file, const std::string& text) const {
    std::ofstream(path / file) << text;
    return (path / file).string();
  }
};

// A pool that is too small for a constant load: 400 queries/s at 10 ms each
// keep about 4-5 connections busy, so a pool of 3 queues and times out.
inline const char* kOverloadedPool = R"(
name: overloaded
duration: 10m
step: 1s
seed: 7
slo: {latency_p95: 200ms}
models:
  - model: load.constant
    rps: 400
    noise: 0.05
    noise_correlation: 30s
  - model: pool
    size: 3
    service_time: 10ms
    sigma: 0
    kappa: 0
    timeout: 1s
  - model: memory
    limit: 1GiB
  - model: monitoring
    interval: 5s
  - model: app
knobs:
  - name: db_pool_size
    min: 1
    max: 40
    max_step: 10
configs:
  - name: static
    knobs: {db_pool_size: 3}
  - name: grow
    knobs: {db_pool_size: 3}
    policies:
      - file: grow.lua
)";

// Grows the pool while clients wait.
inline const char* kGrowPolicy = R"(
return {
  name = "grow",
  interval = "5s",
  tick = function(ctx)
    local k = ctx.knob("db_pool_size")
    local w = ctx.value("db_pool_clients_waiting")
    if k and w and w > 0.1 then ctx.propose("db_pool_size", k.value + 4, string.format("%.2f waiting", w)) end
  end,
}
)";

inline Scenario loadOrFail(const std::string& text, const std::string& file) {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto s = loadScenarioString(text, file, diagnostics);
  if (!s) throw std::runtime_error(s.error().message);
  return std::move(*s);
}

}  // namespace trimtab::sim::testing
