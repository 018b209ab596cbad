// SPDX-License-Identifier: Apache-2.0
#include "key_popularity_model.h"

#include <algorithm>
#include <cmath>

#include "cache_math.h"
#include "model_support.h"

namespace trimtab::sim {

KeyPopularityModel::KeyPopularityModel(const Params& params) : params_(params) {
  const double n = std::max(1.0, std::floor(params_.keys));
  params_.keys = n;
  switch (params_.kind) {
    case Kind::Uniform:
    case Kind::Sequential:
      classes_ = {KeyClass{n, 1.0 / n}};
      break;
    case Kind::Zipf:
      buildZipf();
      break;
    case Kind::Hotspot: {
      const double hot = std::clamp(std::round(params_.hotFraction * n), 1.0, std::max(1.0, n - 1));
      const double cold = n - hot;
      if (cold <= 0) {
        classes_ = {KeyClass{n, 1.0 / n}};
        break;
      }
      const double access = std::clamp(params_.hotAccess, 0.0, 1.0);
      classes_ = {KeyClass{hot, access / hot}, KeyClass{cold, (1.0 - access) / cold}};
      // The new hot set takes as many keys as it can from the old cold set.
      const double moved = std::min(hot, cold);
      shiftRemap_ = {(hot - moved) / hot, moved / hot, moved / cold, (cold - moved) / cold};
      break;
    }
  }
}

void KeyPopularityModel::buildZipf() {
  const double n = params_.keys;
  const int maxClasses = std::clamp(params_.classes, 1, kMaxClasses);
  // Class upper rank bounds, log-spaced, strictly increasing, last = n.
  std::vector<double> bounds;
  if (n <= maxClasses) {
    for (double r = 1; r <= n; r += 1) bounds.push_back(r);
  } else {
    double last = 0;
    for (int j = 1; j <= maxClasses; ++j) {
      double b = std::round(std::pow(n, static_cast<double>(j) / maxClasses));
      b = std::max(b, last + 1);
      if (j == maxClasses) b = n;
      if (b > n) break;
      bounds.push_back(b);
      last = b;
      if (b == n) break;
    }
  }
  const std::vector<double> h = zipfHarmonicAt(bounds, params_.exponent);
  const double total = h.back();
  classes_.clear();
  double prevBound = 0, prevH = 0;
  for (std::size_t j = 0; j < bounds.size(); ++j) {
    const double keys = bounds[j] - prevBound;
    classes_.push_back(KeyClass{keys, (h[j] - prevH) / total / keys});
    prevBound = bounds[j];
    prevH = h[j];
  }
}

std::string_view KeyPopularityModel::kind() const {
  switch (params_.kind) {
    case Kind::Uniform: return "keys.uniform";
    case Kind::Zipf: return "keys.zipf";
    case Kind::Sequential: return "keys.sequential";
    case Kind::Hotspot: return "keys.hotspot";
  }
  return "keys";
}

Status KeyPopularityModel::attach(SimWorld& world) {
  if (!world.keys.classes.empty()) {
    return makeError("two key popularity models in one scenario ('" + std::string(kind()) + "')");
  }
  world.keys.classes = classes_;
  world.keys.totalKeys = params_.keys;
  world.keys.periodic = params_.kind == Kind::Sequential;
  world.keys.generation = 0;
  world.keys.remap.assign(classes_.size() * classes_.size(), 0.0);
  nextShift_ = params_.shiftEvery;
  return Status::success();
}

void KeyPopularityModel::step(Seconds now, Seconds dt, SimWorld& world) {
  if (params_.kind != Kind::Hotspot || params_.shiftEvery <= 0 || shiftRemap_.empty()) return;
  if (now + dt < nextShift_) return;
  // Class sizes stay the same; only which keys are hot changes.
  world.keys.remap.assign(shiftRemap_.begin(), shiftRemap_.end());
  world.keys.generation += 1;
  nextShift_ += params_.shiftEvery * std::max(1.0, std::floor((now + dt - nextShift_) / params_.shiftEvery) + 1);
  world.log(now + dt, std::string(kind()), "hot_set_shift", static_cast<double>(world.keys.generation));
}

Result<std::unique_ptr<SimModel>> KeyPopularityModel::create(ConfigNode& node, Kind kind) {
  Params p;
  p.kind = kind;
  ParamReader r(node, "keys");
  p.keys = r.number("keys", p.keys, 1, kMaxKeys);
  if (kind == Kind::Zipf) {
    p.exponent = r.number("exponent", p.exponent, 0, 10);
    p.classes = r.integer("classes", p.classes, 1, kMaxClasses);
  }
  if (kind == Kind::Hotspot) {
    p.hotFraction = r.number("hot_fraction", p.hotFraction, 1e-9, 0.999999);
    p.hotAccess = r.number("hot_access", p.hotAccess, 0, 1);
    p.shiftEvery = r.duration("shift_every", p.shiftEvery, 0, 1e9);
  }
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<KeyPopularityModel>(p));
}

namespace {
Result<std::unique_ptr<SimModel>> createUniform(ConfigNode& n) {
  return KeyPopularityModel::create(n, KeyPopularityModel::Kind::Uniform);
}
Result<std::unique_ptr<SimModel>> createZipf(ConfigNode& n) {
  return KeyPopularityModel::create(n, KeyPopularityModel::Kind::Zipf);
}
Result<std::unique_ptr<SimModel>> createSequential(ConfigNode& n) {
  return KeyPopularityModel::create(n, KeyPopularityModel::Kind::Sequential);
}
Result<std::unique_ptr<SimModel>> createHotspot(ConfigNode& n) {
  return KeyPopularityModel::create(n, KeyPopularityModel::Kind::Hotspot);
}
}  // namespace

TRIMTAB_REGISTER(SimModelRegistry, "keys.uniform", createUniform);
TRIMTAB_REGISTER(SimModelRegistry, "keys.zipf", createZipf);
TRIMTAB_REGISTER(SimModelRegistry, "keys.sequential", createSequential);
TRIMTAB_REGISTER(SimModelRegistry, "keys.hotspot", createHotspot);

}  // namespace trimtab::sim
