// SPDX-License-Identifier: Apache-2.0
#include "sim_batch.h"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

namespace trimtab::sim {

namespace {

constexpr auto kProgressPeriod = std::chrono::milliseconds(100);

struct Job {
  std::size_t config;
  std::size_t seed;
};

// One worker's loop: takes the next job until none is left or a run failed.
class BatchState {
 public:
  BatchState(SimReport& report, const BatchOptions& options) : report_(report), options_(options) {
    for (std::size_t c = 0; c < report.configs.size(); ++c)
      for (std::size_t s = 0; s < report.seeds.size(); ++s) jobs_.push_back({c, s});
  }

  void work() {
    for (;;) {
      const std::size_t i = next_.fetch_add(1);
      if (i >= jobs_.size() || cancel_.load()) return;
      runOne(jobs_[i]);
    }
  }

  std::atomic<double> done{0};
  std::size_t jobs() const { return jobs_.size(); }
  // Read after the workers joined.
  const std::string& error() const { return error_; }

 private:
  void runOne(const Job& job) {
    const ScenarioConfig& config = report_.configs[job.config];
    const std::uint64_t seed = report_.seeds[job.seed];
    RunOptions run;
    run.perturb = options_.perturb;
    run.progress = &done;
    run.cancel = &cancel_;
    std::FILE* record = nullptr;
    std::unique_ptr<JsonLinesRecorder> recorder;
    if (!options_.recordDir.empty()) {
      std::string path = (std::filesystem::path(options_.recordDir) /
                          runFileName("recording", config.name, seed, "jsonl")).string();
      record = std::fopen(path.c_str(), "wb");
      if (!record) {
        fail(path + ": cannot write: " + std::strerror(errno));
        return;
      }
      recorder = std::make_unique<JsonLinesRecorder>(record);
      run.recorder = recorder.get();
    }
    if (!options_.journalDir.empty())
      run.journalPath = (std::filesystem::path(options_.journalDir) /
                         runFileName("journal", config.name, seed, "jsonl")).string();
    auto result = runSimulation(report_.scenario, config, seed, run);
    if (record) std::fclose(record);
    if (!result) {
      fail(result.error().message);
      return;
    }
    report_.runs[job.config][job.seed] = std::move(*result);
  }

  void fail(const std::string& message) {
    std::lock_guard<std::mutex> lock(mutex_);
    if (error_.empty()) error_ = message;
    cancel_.store(true);
  }

  SimReport& report_;
  const BatchOptions& options_;
  std::vector<Job> jobs_;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> cancel_{false};
  std::mutex mutex_;
  std::string error_;
};

}  // namespace

std::string runFileName(const std::string& prefix, const std::string& config, std::uint64_t seed,
                        const std::string& extension) {
  std::string safe;
  for (char c : config) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                    c == '_' || c == '.';
    safe += ok ? c : '_';
  }
  return prefix + "-" + safe + "-seed" + std::to_string(seed) + "." + extension;
}

Result<SimReport> runBatch(const Scenario& scenario, std::vector<ScenarioConfig> configs,
                           const BatchOptions& options) {
  SimReport report;
  report.scenario = scenario;
  report.configs = std::move(configs);
  report.seeds = options.seeds.empty() ? std::vector<std::uint64_t>{scenario.seed} : options.seeds;
  report.perturb = options.perturb;
  report.runs.assign(report.configs.size(), std::vector<RunResult>(report.seeds.size()));
  BatchState state(report, options);
  const unsigned threads =
      static_cast<unsigned>(std::clamp<std::size_t>(options.threads, 1, std::min<std::size_t>(kMaxThreads, state.jobs())));
  const double total = scenario.duration * static_cast<double>(state.jobs());
  std::atomic<unsigned> running{threads};
  std::vector<std::thread> workers;
  for (unsigned i = 0; i < threads; ++i) {
    workers.emplace_back([&state, &running] {
      state.work();
      running.fetch_sub(1);
    });
  }
  if (options.progress) {
    while (running.load() > 0) {
      options.progress(state.done.load(), total);
      std::this_thread::sleep_for(kProgressPeriod);
    }
  }
  for (auto& w : workers) w.join();
  if (!state.error().empty()) return makeError(state.error());
  for (const auto& perConfig : report.runs) {
    std::vector<Scores> scores;
    for (const auto& r : perConfig) scores.push_back(r.scores);
    report.means.push_back(meanScores(scores));
  }
  return report;
}

}  // namespace trimtab::sim
