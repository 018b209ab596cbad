// SPDX-License-Identifier: Apache-2.0
#include "report_csv.h"

#include "number_format.h"

namespace trimtab::sim {

std::string timelineCsv(const SimReport& report) {
  std::string out =
      "config,seed,t_s,rps,latency_p95_max_s,latency_p95_mean_s,errors,rss_max_bytes,connections_max,"
      "hit_ratio,stale_reads,downtime_s,scrape_interval_s,oom_eta_predicted_s,oom_eta_actual_s";
  for (const auto& k : report.scenario.knobs) out += "," + csvField(k.spec.name);
  out += "\n";
  for (std::size_t c = 0; c < report.configs.size(); ++c) {
    const std::string config = csvField(report.configs[c].name);
    for (const auto& run : report.runs[c]) {
      const std::string prefix = config + "," + std::to_string(run.seed) + ",";
      for (const auto& r : run.timeline.rows) {
        out += prefix;
        for (double v : {r.time, r.rps, r.latencyP95Max, r.latencyP95Mean, r.errors, r.rssMaxBytes,
                         r.connectionsMax, r.hitRatio, r.staleReads, r.downtime, r.monitoringInterval,
                         r.oomEtaPredicted, r.oomEtaActual}) {
          out += formatNumber(v);
          out += ',';
        }
        for (double v : r.knobs) {
          out += formatNumber(v);
          out += ',';
        }
        out.back() = '\n';
      }
    }
  }
  return out;
}

std::string eventsCsv(const SimReport& report) {
  std::string out = "config,seed,t_s,source,what,value,detail\n";
  for (std::size_t c = 0; c < report.configs.size(); ++c) {
    const std::string config = csvField(report.configs[c].name);
    for (const auto& run : report.runs[c]) {
      for (const auto& e : run.events) {
        out += config + "," + std::to_string(run.seed) + "," + formatNumber(e.time) + "," + csvField(e.source) +
               "," + csvField(e.what) + "," + formatNumber(e.value) + "," + csvField(e.detail) + "\n";
      }
    }
  }
  return out;
}

}  // namespace trimtab::sim
