// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sim_model.h"

namespace trimtab::sim {

// Which keys the requests read, as key classes in SimWorld::keys (stage Keys).
//
// - uniform: every key equally likely (one class).
// - zipf: the key of rank r with probability r^{-s} / H(N, s); ranks grouped
//   into at most `classes` log-spaced classes (one key per class when N is
//   small enough, so small key spaces are exact).
// - sequential: a scan, each key read in turn (periodic, one class).
// - hotspot: `hot_access` of the reads (0.9) go to `hot_fraction` of the keys
//   (0.1); every `shift_every` the hot set moves to keys that were cold.
//
// Publishes nothing: a service does not export its key popularity.
class KeyPopularityModel final : public SimModel {
 public:
  enum class Kind { Uniform, Zipf, Sequential, Hotspot };

  struct Params {
    Kind kind = Kind::Uniform;
    double keys = 100000;
    double exponent = 1.0;      // zipf s
    int classes = 64;           // zipf: at most this many classes
    double hotFraction = 0.1;   // hotspot
    double hotAccess = 0.9;     // hotspot
    Seconds shiftEvery = 0;     // hotspot: 0 = the hot set never moves
  };

  static constexpr int kMaxClasses = 4096;
  static constexpr double kMaxKeys = 1e12;

  explicit KeyPopularityModel(const Params& params);

  static Result<std::unique_ptr<SimModel>> create(ConfigNode& node, Kind kind);

  std::string_view kind() const override;
  SimStage stage() const override { return SimStage::Keys; }
  Status attach(SimWorld& world) override;
  void step(Seconds now, Seconds dt, SimWorld& world) override;
  void publish(SampleBatch& batch) const override { (void)batch; }

  const std::vector<KeyClass>& classes() const { return classes_; }

 private:
  void buildZipf();

  Params params_;
  std::vector<KeyClass> classes_;
  std::vector<double> shiftRemap_;  // hotspot: old class -> new class mixing
  Seconds nextShift_ = 0;
};

}  // namespace trimtab::sim
