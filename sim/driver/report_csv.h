// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include "sim_batch.h"

namespace trimtab::sim {

// timeline.csv: one row per config, seed and bucket:
// config,seed,t_s,rps,latency_p95_max_s,latency_p95_mean_s,errors,rss_max_bytes,
// connections_max,hit_ratio,stale_reads,downtime_s,scrape_interval_s,
// oom_eta_predicted_s,oom_eta_actual_s ("nan": no crossing predicted, no kill
// ahead), then one column per governed knob (its value at the bucket's end).
std::string timelineCsv(const SimReport& report);

// events.csv: config,seed,t_s,source,what,value,detail — model events,
// controller events and applied knob changes, in time order per run.
std::string eventsCsv(const SimReport& report);

}  // namespace trimtab::sim
