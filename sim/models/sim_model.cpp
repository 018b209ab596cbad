// SPDX-License-Identifier: Apache-2.0
#include "sim_model.h"

namespace trimtab::sim {

Status SimModel::setKnob(const std::string& knob, double value) {
  (void)value;
  return makeError("model '" + std::string(kind()) + "' has no knob '" + knob + "'");
}

}  // namespace trimtab::sim
