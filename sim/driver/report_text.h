// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sim_batch.h"

namespace trimtab::sim {

// The summary table for stdout: one row per score, one column per config
// (mean over seeds); '*' marks the best value of a row where one is better
// (every config at it); values under 1e-9 show and rank as "~0".
std::string summaryTable(const SimReport& report);

// What went wrong in the runs, for stderr after the table: per config, the
// failed policy ticks (with the first message and when), quarantines, and
// metrics the policies read that no model publishes (with a did-you-mean).
// Empty when nothing did. Without it a policy that never ran looks like the
// baseline.
std::string problemsText(const SimReport& report);

}  // namespace trimtab::sim
