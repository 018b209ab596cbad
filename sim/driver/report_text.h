// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sim_batch.h"

namespace trimtab::sim {

// The summary table for stdout: one row per score, one column per config
// (mean over seeds); '*' marks the best value of a row where one is better.
std::string summaryTable(const SimReport& report);

}  // namespace trimtab::sim
