// SPDX-License-Identifier: Apache-2.0
#include "sim_world.h"

#include <cmath>
#include <numbers>

namespace trimtab::sim {

void SimWorld::beginStep(Seconds stepStart, Seconds stepLength) {
  now = stepStart;
  dt = stepLength;
  load.rps = 0;
  process.pauseSeconds = 0;
  process.cpuFraction = 0;
  monitoring.scrapeDue = true;
  db.connectFraction = 0;
}

double SimWorld::uniform() {
  return static_cast<double>(rng_() >> 11) * 0x1.0p-53;
}

double SimWorld::normal() {
  // Box-Muller gives two independent normals per pair of uniforms; the
  // second is kept for the next call.
  if (hasSpareNormal_) {
    hasSpareNormal_ = false;
    return spareNormal_;
  }
  // 1 - uniform() is in (0, 1], so the logarithm is finite.
  const double radius = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  const double angle = 2.0 * std::numbers::pi * uniform();
  spareNormal_ = radius * std::sin(angle);
  hasSpareNormal_ = true;
  return radius * std::cos(angle);
}

void SimWorld::log(Seconds time, std::string model, std::string what, double value) {
  events.push_back(SimEvent{time, std::move(model), std::move(what), value});
}

}  // namespace trimtab::sim
