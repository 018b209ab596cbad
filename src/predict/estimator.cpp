// SPDX-License-Identifier: Apache-2.0
#include "predict/estimator.h"

namespace trimtab {

std::unique_ptr<Estimator> makeEstimator(const std::string& name, const EstimatorOptions& options) {
  const auto* factory = EstimatorRegistry::instance().find(name);
  return factory ? (*factory)(options) : nullptr;
}

std::vector<std::string> estimatorNames() { return EstimatorRegistry::instance().names(); }

}  // namespace trimtab
