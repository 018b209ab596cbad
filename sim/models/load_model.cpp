// SPDX-License-Identifier: Apache-2.0
#include "load_model.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace trimtab::sim {
namespace {

constexpr double kMaxRps = 1e9;
constexpr Seconds kMaxTime = 1e10;
constexpr Seconds kDay = 86400;
constexpr int kDaysPerWeek = 7;
constexpr int kFirstWeekendDay = 5;

}  // namespace

void LoadModel::step(Seconds now, Seconds dt, SimWorld& world) {
  double v = shape(now + 0.5 * dt);
  if (common_.noise > 0) {
    if (!noiseStarted_) {
      noiseState_ = common_.noise * world.normal();  // start in the stationary law
      noiseStarted_ = true;
    } else {
      if (dt != noiseDt_) {
        noiseDecay_ = std::exp(-dt / common_.noiseCorrelation);
        noiseScale_ = common_.noise * std::sqrt(1.0 - noiseDecay_ * noiseDecay_);
        noiseDt_ = dt;
      }
      noiseState_ = noiseState_ * noiseDecay_ + noiseScale_ * world.normal();
    }
    v *= std::exp(noiseState_ - 0.5 * common_.noise * common_.noise);
  }
  if (!std::isfinite(v)) v = 0;
  switch (common_.combine) {
    case Combine::Replace: world.load.rps = v; break;
    case Combine::Add: world.load.rps += v; break;
    case Combine::Multiply: world.load.rps *= v; break;
  }
  world.load.rps = std::clamp(world.load.rps, 0.0, kMaxRps);
}

LoadModel::Common LoadModel::readCommon(ParamReader& r, Combine fallback) {
  Common c;
  const char* names[] = {"replace", "add", "multiply"};
  const std::string s =
      r.choice("combine", {"replace", "add", "multiply"}, names[static_cast<int>(fallback)]);
  c.combine = s == "add" ? Combine::Add : s == "multiply" ? Combine::Multiply : Combine::Replace;
  c.noise = r.number("noise", 0, 0, 5);
  c.noiseCorrelation = r.duration("noise_correlation", c.noiseCorrelation, 1e-3, kMaxTime);
  return c;
}

double RampLoad::shape(Seconds t) const {
  if (t <= p_.start) return p_.from;
  if (p_.duration <= 0 || t >= p_.start + p_.duration) return p_.to;
  return p_.from + (p_.to - p_.from) * (t - p_.start) / p_.duration;
}

StepLoad::StepLoad(Common c, double base, std::vector<std::pair<Seconds, double>> steps)
    : LoadModel(c), base_(base), steps_(std::move(steps)) {
  std::stable_sort(steps_.begin(), steps_.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

double StepLoad::shape(Seconds t) const {
  // Few steps in a scenario: a binary search keeps it O(log steps) anyway.
  auto it = std::upper_bound(steps_.begin(), steps_.end(), t,
                             [](Seconds x, const auto& s) { return x < s.first; });
  return it == steps_.begin() ? base_ : std::prev(it)->second;
}

double DiurnalLoad::shape(Seconds t) const {
  const double phase = 2.0 * std::numbers::pi * (t - p_.peakAt) / p_.period;
  double v = p_.mean * (1.0 + p_.amplitude * std::cos(phase));
  const auto day = static_cast<long long>(std::floor(t / kDay)) % kDaysPerWeek;
  if (day >= kFirstWeekendDay) v *= p_.weekendFactor;
  return std::max(0.0, v);
}

double FlashCrowdLoad::shape(Seconds t) const {
  double local = t - p_.at;
  if (p_.every > 0 && local >= 0) local = std::fmod(local, p_.every);
  double envelope = 0;
  if (local < 0) envelope = 0;
  else if (local < p_.rise) envelope = local / p_.rise;
  else if (local < p_.rise + p_.duration) envelope = 1;
  else if (local < p_.rise + p_.duration + p_.fall) envelope = 1 - (local - p_.rise - p_.duration) / p_.fall;
  return p_.base * (1.0 + (p_.multiplier - 1.0) * envelope);
}

Result<std::unique_ptr<SimModel>> ConstantLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.constant");
  const Common c = readCommon(r, Combine::Replace);
  const double rps = r.number("rps", 100, 0, kMaxRps);
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<ConstantLoad>(c, rps));
}

Result<std::unique_ptr<SimModel>> RampLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.ramp");
  const Common c = readCommon(r, Combine::Replace);
  Params p;
  p.from = r.number("from_rps", p.from, 0, kMaxRps);
  p.to = r.number("to_rps", p.to, 0, kMaxRps);
  p.start = r.duration("start", p.start, 0, kMaxTime);
  p.duration = r.duration("duration", p.duration, 0, kMaxTime);
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<RampLoad>(c, p));
}

Result<std::unique_ptr<SimModel>> StepLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.step");
  const Common c = readCommon(r, Combine::Replace);
  const double base = r.number("rps", 100, 0, kMaxRps);
  std::vector<std::pair<Seconds, double>> steps;
  for (ConfigNode& s : node.childList("steps")) {
    ParamReader sr(s, "load.step");
    const Seconds at = sr.duration("at", 0, 0, kMaxTime);
    const double rps = sr.number("rps", base, 0, kMaxRps);
    s.finish();
    if (Status st = sr.status(); !st) return st.error();
    steps.emplace_back(at, rps);
  }
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<StepLoad>(c, base, std::move(steps)));
}

Result<std::unique_ptr<SimModel>> DiurnalLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.diurnal");
  const Common c = readCommon(r, Combine::Replace);
  Params p;
  p.mean = r.number("mean_rps", p.mean, 0, kMaxRps);
  p.amplitude = r.number("amplitude", p.amplitude, 0, 1);
  p.period = r.duration("period", p.period, 1, kMaxTime);
  p.peakAt = r.duration("peak_at", p.peakAt, 0, kMaxTime);
  p.weekendFactor = r.number("weekend_factor", p.weekendFactor, 0, 100);
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<DiurnalLoad>(c, p));
}

Result<std::unique_ptr<SimModel>> FlashCrowdLoad::create(ConfigNode& node) {
  ParamReader r(node, "load.flash_crowd");
  const Common c = readCommon(r, Combine::Multiply);
  Params p;
  p.base = r.number("base_rps", c.combine == Combine::Multiply ? 1.0 : 100.0, 0, kMaxRps);
  p.multiplier = r.number("multiplier", p.multiplier, 0, 1e6);
  p.at = r.duration("at", p.at, 0, kMaxTime);
  p.rise = r.duration("rise", p.rise, 0, kMaxTime);
  p.duration = r.duration("duration", p.duration, 0, kMaxTime);
  p.fall = r.duration("fall", p.fall, 0, kMaxTime);
  p.every = r.duration("every", p.every, 0, kMaxTime);
  if (p.every > 0 && p.every < p.rise + p.duration + p.fall) {
    r.fail("every", "must be 0 or at least rise + duration + fall");
  }
  if (Status s = r.status(); !s) return s.error();
  return std::unique_ptr<SimModel>(std::make_unique<FlashCrowdLoad>(c, p));
}

TRIMTAB_REGISTER(SimModelRegistry, "load.constant", ConstantLoad::create);
TRIMTAB_REGISTER(SimModelRegistry, "load.ramp", RampLoad::create);
TRIMTAB_REGISTER(SimModelRegistry, "load.step", StepLoad::create);
TRIMTAB_REGISTER(SimModelRegistry, "load.diurnal", DiurnalLoad::create);
TRIMTAB_REGISTER(SimModelRegistry, "load.flash_crowd", FlashCrowdLoad::create);

}  // namespace trimtab::sim
