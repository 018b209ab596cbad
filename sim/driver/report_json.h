// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sim_batch.h"

namespace trimtab::sim {

// The JSON summary (summary.json): the scenario, then per config its static
// values, policies, mean scores and each run's scores, controller counters,
// event counts and perturbations. Keys in a fixed order, numbers with six
// significant digits: the same runs give the same bytes.
std::string summaryJson(const SimReport& report);

// Applied and dry-run decisions of one run, and its first vetoes, in the
// journal's JSON-lines format (`trimtab journal show` reads it).
std::string decisionsJsonLines(const RunResult& run);

}  // namespace trimtab::sim
