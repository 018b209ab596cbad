// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model_support.h"
#include "sim_model.h"

namespace trimtab::sim {

// Offered load in requests per second (stage Load). Every load model
// evaluates its shape at the middle of the step, multiplies it by optional
// noise and combines it with what earlier load models wrote: `replace`
// (default), `add`, or `multiply` (the default of load.flash_crowd, so a crowd
// rides on top of a diurnal curve). Noise is a mean-one log-normal
// Ornstein-Uhlenbeck factor: sigma `noise`, correlation time
// `noise_correlation` (real load is smooth at the scale of seconds).
// Publishes nothing (the app model counts requests).
class LoadModel : public SimModel {
 public:
  enum class Combine { Replace, Add, Multiply };

  struct Common {
    Combine combine = Combine::Replace;
    double noise = 0;                // sigma of log load
    Seconds noiseCorrelation = 300;
  };

  explicit LoadModel(Common common) : common_(common) {}

  SimStage stage() const override { return SimStage::Load; }
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override { (void)batch; }

  // The noiseless load at time t (requests per second, or a factor when
  // combining by multiplication).
  virtual double shape(Seconds t) const = 0;

  // Reads combine/noise keys shared by every load model.
  static Common readCommon(ParamReader& r, Combine fallback);

 private:
  Common common_;
  double noiseState_ = 0;      // log factor, stationary N(0, sigma^2)
  Seconds noiseDt_ = -1;
  double noiseDecay_ = 0, noiseScale_ = 0;
  bool noiseStarted_ = false;
};

class ConstantLoad final : public LoadModel {
 public:
  ConstantLoad(Common c, double rps) : LoadModel(c), rps_(rps) {}
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.constant"; }
  double shape(Seconds) const override { return rps_; }

 private:
  double rps_;
};

class RampLoad final : public LoadModel {
 public:
  struct Params { double from = 0, to = 100; Seconds start = 0, duration = 3600; };
  RampLoad(Common c, Params p) : LoadModel(c), p_(p) {}
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.ramp"; }
  double shape(Seconds t) const override;

 private:
  Params p_;
};

// `base` until the first step, then each step's rate from its time on.
class StepLoad final : public LoadModel {
 public:
  StepLoad(Common c, double base, std::vector<std::pair<Seconds, double>> steps);
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.step"; }
  double shape(Seconds t) const override;

 private:
  double base_;
  std::vector<std::pair<Seconds, double>> steps_;  // sorted by time
};

// mean * (1 + amplitude cos(2 pi (t - peak_at) / period)), times
// weekend_factor on days 5 and 6 of each 7-day week (day 0 starts at t = 0).
class DiurnalLoad final : public LoadModel {
 public:
  struct Params {
    double mean = 100, amplitude = 0.5;
    Seconds period = 86400, peakAt = 14 * 3600;
    double weekendFactor = 1;
  };
  DiurnalLoad(Common c, Params p) : LoadModel(c), p_(p) {}
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.diurnal"; }
  double shape(Seconds t) const override;

 private:
  Params p_;
};

// base * (1 + (multiplier - 1) * envelope): the envelope rises linearly over
// `rise` from `at`, holds for `duration`, falls linearly over `fall`; repeats
// every `every` when > 0.
class FlashCrowdLoad final : public LoadModel {
 public:
  struct Params {
    double base = 1, multiplier = 50;
    Seconds at = 3600, rise = 30, duration = 300, fall = 120, every = 0;
  };
  FlashCrowdLoad(Common c, Params p) : LoadModel(c), p_(p) {}
  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node);
  std::string_view kind() const override { return "load.flash_crowd"; }
  double shape(Seconds t) const override;

 private:
  Params p_;
};

}  // namespace trimtab::sim
