// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/config_node.h"
#include "common/metric.h"
#include "common/result.h"
#include "sim_model.h"

namespace trimtab::sim {

// Labels that every sample of one model carries (a model entry's `labels:`),
// e.g. {pool: "main"} to tell two pools apart.
class ModelLabels {
 public:
  static constexpr std::size_t kMaxLabels = 8;

  Status set(const std::map<std::string, std::string>& labels);
  // Appends one sample; no allocation once the batch has capacity.
  void add(SampleBatch& batch, std::string_view name, MetricType type, double value) const;

 private:
  std::vector<std::pair<std::string, std::string>> labels_;
};

// Reads a model's parameters with range checks. Each violation becomes a
// diagnostic on its key; status() is an Error naming all of them.
class ParamReader {
 public:
  ParamReader(ConfigNode& node, std::string model);

  double number(const std::string& key, double fallback, double min, double max);
  Seconds duration(const std::string& key, Seconds fallback, Seconds min, Seconds max);
  double bytes(const std::string& key, double fallback, double min, double max);
  int integer(const std::string& key, int fallback, int min, int max);
  bool flag(const std::string& key, bool fallback);
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     const std::string& fallback);
  ModelLabels labels();  // `labels:`
  // Records a problem found by the model itself (e.g. two keys that conflict).
  void fail(const std::string& key, const std::string& message);

  ConfigNode& node() { return node_; }
  Status status() const;

 private:
  double checkRange(const std::string& key, double value, double min, double max);

  ConfigNode& node_;
  std::string model_;
  std::size_t diagnosticsBefore_;
  std::vector<std::string> problems_;
};

// Clamps `value` into the knob's range (rounded for integer knobs); an Error
// for NaN or infinity.
Result<double> checkKnobValue(const SimKnobInfo& knob, double value);
const SimKnobInfo* findKnob(const std::vector<SimKnobInfo>& knobs, const std::string& name);

}  // namespace trimtab::sim
