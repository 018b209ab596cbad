// SPDX-License-Identifier: Apache-2.0
#include "model_support.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <sstream>

namespace trimtab::sim {

Status ModelLabels::set(const std::map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return makeError("at most " + std::to_string(kMaxLabels) + " labels per model, got " +
                     std::to_string(labels.size()));
  }
  for (const auto& [name, value] : labels) {
    // The exposition's label names: what a replay of the recording, and any
    // Prometheus tool, reads back. "__" names are reserved.
    const bool valid =
        !name.empty() && !(std::isdigit(static_cast<unsigned char>(name[0]))) && name.rfind("__", 0) != 0 &&
        std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        });
    if (!valid) {
      return makeError("label name '" + name + "': expected letters, digits and '_', not starting with a digit "
                       "or '__'");
    }
  }
  labels_.assign(labels.begin(), labels.end());
  return Status::success();
}

void ModelLabels::add(SampleBatch& batch, std::string_view name, MetricType type,
                      double value) const {
  if (labels_.empty()) {
    batch.add(name, nullptr, 0, type, value);
    return;
  }
  std::array<LabelView, kMaxLabels> views;
  for (std::size_t i = 0; i < labels_.size(); ++i) {
    views[i] = LabelView{labels_[i].first, labels_[i].second};
  }
  batch.add(name, views.data(), labels_.size(), type, value);
}

ParamReader::ParamReader(ConfigNode& node, std::string model)
    : node_(node), model_(std::move(model)), diagnosticsBefore_(node.diagnostics().items().size()) {}

double ParamReader::checkRange(const std::string& key, double value, double min, double max) {
  if (std::isfinite(value) && value >= min && value <= max) return value;
  std::ostringstream message;
  message << "must be between " << min << " and " << max << ", got " << value;
  fail(key, message.str());
  return std::isfinite(value) ? std::clamp(value, min, max) : min;
}

double ParamReader::number(const std::string& key, double fallback, double min, double max) {
  return checkRange(key, node_.getNumber(key, fallback), min, max);
}

Seconds ParamReader::duration(const std::string& key, Seconds fallback, Seconds min, Seconds max) {
  return checkRange(key, node_.getDuration(key, fallback), min, max);
}

double ParamReader::bytes(const std::string& key, double fallback, double min, double max) {
  const double value =
      static_cast<double>(node_.getSize(key, static_cast<std::uint64_t>(std::max(fallback, 0.0))));
  return checkRange(key, value, min, max);
}

int ParamReader::integer(const std::string& key, int fallback, int min, int max) {
  const auto value = node_.getInteger(key, fallback);
  return static_cast<int>(checkRange(key, static_cast<double>(value), min, max));
}

bool ParamReader::flag(const std::string& key, bool fallback) { return node_.getBool(key, fallback); }

std::string ParamReader::choice(const std::string& key, const std::vector<std::string>& allowed,
                                const std::string& fallback) {
  return node_.getEnum(key, allowed, fallback);
}

ModelLabels ParamReader::labels() {
  ModelLabels labels;
  if (Status s = labels.set(node_.getStringMap("labels")); !s) fail("labels", s.error().message);
  return labels;
}

void ParamReader::fail(const std::string& key, const std::string& message) {
  node_.error(key, message);
  problems_.push_back(key + ": " + message);
}

Status ParamReader::status() const {
  std::string message;
  auto append = [&](const std::string& text) { message += (message.empty() ? "" : "; ") + text; };
  const auto& items = node_.diagnostics().items();
  for (std::size_t i = diagnosticsBefore_; i < items.size(); ++i) {
    append(items[i].path.empty() ? items[i].message : items[i].path + ": " + items[i].message);
  }
  if (message.empty()) {
    for (const auto& p : problems_) append(p);
  }
  if (message.empty()) return Status::success();
  return makeError("model '" + model_ + "': " + message);
}

Result<double> checkKnobValue(const SimKnobInfo& knob, double value) {
  if (!std::isfinite(value)) {
    return makeError("knob '" + knob.name + "': value must be finite");
  }
  if (knob.trigger) return value;
  double v = std::clamp(value, knob.min, knob.max);
  if (knob.integer) v = std::round(v);
  return v;
}

const SimKnobInfo* findKnob(const std::vector<SimKnobInfo>& knobs, const std::string& name) {
  for (const auto& k : knobs) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

}  // namespace trimtab::sim
