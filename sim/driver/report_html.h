// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sim_batch.h"

namespace trimtab::sim {

// report.html: one self-contained page (inline CSS and SVG, no script, no
// network) with the score table, charts over time of load, latency, errors,
// memory, connections, hit ratio, stale reads, scrape interval and every
// governed knob (one line per config, first seed), the predicted against the
// actual time to the memory limit, the events of each config and the
// decisions that changed knobs, with their reasons.
std::string htmlReport(const SimReport& report);

}  // namespace trimtab::sim
