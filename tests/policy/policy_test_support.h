// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "controller/series_store.h"
#include "policy/policy_engine.h"

namespace trimtab::test {

// A fresh directory under the system temp dir, removed with everything in it.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "trimtab-policy-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  // Writes `text` to `name` in the directory; returns the full path.
  std::string write(const std::string& name, const std::string& text) const {
    std::filesystem::path file = path_ / name;
    std::filesystem::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    return file.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct TestSample {
  std::string name;
  std::vector<std::pair<std::string, std::string>> labels;
  double value;
  MetricType type = MetricType::Gauge;
};

// A PolicyHost over a real SeriesStore, with knobs set by the test.
class FakeHost : public PolicyHost {
 public:
  FakeHost() : source_(store_.registerSource("test")) {}

  Seconds now() const override { return now_; }
  SeriesStore& store() override { return store_; }
  const KnobState* knob(const std::string& name) const override {
    auto it = knobs_.find(name);
    return it == knobs_.end() ? nullptr : &it->second;
  }
  PredictService* predict() override { return predict_; }
  void setPredict(PredictService* service) { predict_ = service; }  // before loading policies
  std::vector<std::string> knobNames() const override {
    std::vector<std::string> out;
    for (const auto& [name, k] : knobs_) out.push_back(name);
    return out;
  }

  KnobState& addKnob(const std::string& name, double current, double min, double max, bool integer = true) {
    KnobState& k = knobs_[name];
    k.spec.name = name;
    k.spec.integer = integer;
    k.spec.min = min;
    k.spec.max = max;
    k.spec.baseline = current;
    k.current = current;
    return k;
  }

  // One successful scrape at time t with exactly these samples.
  void scrape(Seconds t, const std::vector<TestSample>& samples) {
    now_ = t;
    SampleBatch batch;
    for (const TestSample& s : samples) {
      std::vector<LabelView> views;
      for (const auto& [n, v] : s.labels) views.push_back(LabelView{n, v});
      batch.add(s.name, views.data(), views.size(), s.type, s.value);
    }
    store_.ingest(source_, batch, t);
  }
  void failScrape(Seconds t) {
    now_ = t;
    store_.markFailedScrape(source_, t);
  }

 private:
  SeriesStore store_;
  int source_;
  Seconds now_ = 0;
  PredictService* predict_ = nullptr;
  std::map<std::string, KnobState> knobs_;
};

// Limits small enough that budget and memory tests run fast.
inline PolicyLimits testLimits() {
  PolicyLimits limits;
  limits.cpuBudget = 0.25;  // generous for sanitizer builds; budget tests wait this long
  limits.memoryCapBytes = 8u << 20;
  limits.quarantineAfterErrors = 3;
  return limits;
}

inline PolicySpec specFor(const std::string& file, std::map<std::string, ParamValue> params = {},
                          int priority = 0, int order = 0) {
  PolicySpec spec;
  spec.file = file;
  spec.priority = priority;
  spec.order = order;
  spec.params = std::move(params);
  return spec;
}

// A policy file named `name` whose tick runs `body`.
inline std::string policyWithTick(const std::string& name, const std::string& body) {
  return "return {\n  name = '" + name + "',\n  tick = function(ctx)\n" + body + "\n  end,\n}\n";
}

// The error message of `s`, or "(ok)": for CHECKs on error texts.
inline std::string errorOf(const Status& s) { return s.ok() ? std::string("(ok)") : s.error().message; }

// Moves a file's modification time, so a rewrite within one clock tick of the
// filesystem still counts as a change (hot reload).
inline void touchLater(const std::string& file, int seconds) {
  auto t = std::filesystem::last_write_time(file);
  std::filesystem::last_write_time(file, t + std::chrono::seconds(seconds));
}

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

}  // namespace trimtab::test
