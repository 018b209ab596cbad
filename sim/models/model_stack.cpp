// SPDX-License-Identifier: Apache-2.0
#include "model_stack.h"

#include <algorithm>
#include <map>
#include <set>

namespace trimtab::sim {

Result<std::unique_ptr<SimModel>> createSimModel(ConfigNode& entry) {
  const std::string kind = entry.getString("model");
  const auto& registry = SimModelRegistry::instance();
  const auto* factory = registry.find(kind);
  if (kind.empty() || factory == nullptr) {
    std::string message = kind.empty() ? "missing required key 'model'" : "unknown model '" + kind + "'";
    const std::string guess = kind.empty() ? "" : closestMatch(kind, registry.names());
    if (!guess.empty()) message += " (did you mean '" + guess + "'?)";
    std::string known;
    for (const auto& n : registry.names()) known += (known.empty() ? "" : ", ") + n;
    message += "; known models: " + known;
    entry.error("model", message);
    return makeError(entry.path() + ": " + message);
  }
  auto model = (*factory)(entry);
  entry.finish();
  return model;
}

namespace {

// Load models combine (`combine:`); any other model writes its part of the
// world alone, so a second one of its group would silently override the
// first. The group of `kind`, or "" for a load model.
std::string_view exclusiveGroup(std::string_view kind) {
  if (kind.substr(0, 5) == "load.") return {};
  return kind.substr(0, 5) == "keys." ? std::string_view("key popularity") : kind;
}

}  // namespace

void ModelStack::add(std::unique_ptr<SimModel> model) { models_.push_back(std::move(model)); }

Status ModelStack::addFromConfig(std::vector<ConfigNode>& entries) {
  std::string problems;
  std::map<std::string_view, std::size_t> firstOfGroup;  // located here; attach() holds the rule for every stack
  for (std::size_t i = 0; i < entries.size(); ++i) {
    auto model = createSimModel(entries[i]);
    if (!model) {
      problems += (problems.empty() ? "" : "\n") + model.error().message;
      continue;
    }
    const std::string_view group = exclusiveGroup((*model)->kind());
    if (auto [first, fresh] = firstOfGroup.emplace(group, i); !group.empty() && !fresh) {
      const std::string message = "a second " + std::string(group) + " model (the first is models[" +
                                  std::to_string(first->second) + "]): a scenario has one";
      entries[i].error("model", message);
      problems += (problems.empty() ? "" : "\n") + entries[i].path() + ": " + message;
      continue;
    }
    add(std::move(*model));
  }
  if (!problems.empty()) return makeError(problems);
  return Status::success();
}

Status ModelStack::attach() {
  if (attached_) return makeError("model stack attached twice");
  std::stable_sort(models_.begin(), models_.end(), [](const auto& a, const auto& b) {
    return static_cast<int>(a->stage()) < static_cast<int>(b->stage());
  });
  std::set<std::string_view> groups;
  for (const auto& m : models_) {
    const std::string_view group = exclusiveGroup(m->kind());
    if (!group.empty() && !groups.insert(group).second)
      return makeError("two " + std::string(group) + " models in one scenario");
  }
  for (std::size_t i = 0; i < models_.size(); ++i) {
    if (Status s = models_[i]->attach(world_); !s) return s;
    for (const auto& knob : models_[i]->knobs()) {
      auto [it, fresh] = knobOwner_.emplace(knob.name, i);
      if (!fresh) {
        return makeError("knob '" + knob.name + "' is accepted by two models ('" +
                         std::string(models_[it->second]->kind()) + "' and '" +
                         std::string(models_[i]->kind()) + "')");
      }
    }
  }
  attached_ = true;
  return Status::success();
}

void ModelStack::step(Seconds now, Seconds dt) {
  world_.beginStep(now, dt);
  for (auto& m : models_) m->step(now, dt, world_);
  // A dead process cannot be scraped, with or without a monitoring model.
  if (!world_.process.up) world_.monitoring.scrapeDue = false;
}

void ModelStack::publish(SampleBatch& batch) const {
  for (const auto& m : models_) m->publish(batch);
}

std::vector<SimKnobInfo> ModelStack::knobs() const {
  std::vector<SimKnobInfo> out;
  for (const auto& m : models_) {
    for (auto& k : m->knobs()) out.push_back(std::move(k));
  }
  return out;
}

Status ModelStack::setKnob(const std::string& knob, double value) {
  auto it = knobOwner_.find(knob);
  if (it == knobOwner_.end()) {
    std::vector<std::string> names;
    for (const auto& [name, _] : knobOwner_) names.push_back(name);
    std::string message = "no simulated model accepts knob '" + knob + "'";
    if (const std::string guess = closestMatch(knob, names); !guess.empty()) {
      message += " (did you mean '" + guess + "'?)";
    }
    return makeError(message);
  }
  return models_[it->second]->setKnob(knob, value);
}

std::optional<double> ModelStack::knobValue(const std::string& knob) const {
  auto it = knobOwner_.find(knob);
  if (it == knobOwner_.end()) return std::nullopt;
  return models_[it->second]->knobValue(knob);
}

SimModel* ModelStack::find(std::string_view kind) const {
  for (const auto& m : models_) {
    if (m->kind() == kind) return m.get();
  }
  return nullptr;
}

}  // namespace trimtab::sim
