// SPDX-License-Identifier: Apache-2.0
#include "report_text.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>

#include "number_format.h"

namespace trimtab::sim {

namespace {

constexpr std::size_t kLabelWidth = 22;
constexpr std::size_t kMinColumn = 15;

std::string pad(const std::string& s, std::size_t width, bool right) {
  if (s.size() >= width) return s;
  std::string fill(width - s.size(), ' ');
  return right ? fill + s : s + fill;
}

// The best value of a row, or nullopt when all are equal or none is better.
// Every config at the best value gets the star, not only the first.
std::optional<double> best(const std::vector<double>& values, Better better) {
  if (better == Better::None || values.size() < 2) return std::nullopt;
  auto it = better == Better::Lower ? std::min_element(values.begin(), values.end())
                                    : std::max_element(values.begin(), values.end());
  if (std::all_of(values.begin(), values.end(), [&](double v) { return v == *it; })) return std::nullopt;
  return *it;
}

// Queueing tails leave expected counts like 5e-258 where nothing happened;
// the table shows them as "~0" and ranks them as 0 (summary.json keeps the
// exact value).
constexpr double kNegligible = 1e-9;
bool negligible(double v) { return v != 0 && std::fabs(v) < kNegligible; }

std::string runsOf(std::size_t n, std::size_t total) {
  return std::to_string(n) + " of " + std::to_string(total) + " run" + (total == 1 ? "" : "s");
}

// The first controller event `what` over the runs of one config, as
// "at 01:00:00 (seed 2): detail".
std::string firstEvent(const std::vector<RunResult>& runs, const std::string& what, std::size_t& runsWithIt) {
  std::string first;
  runsWithIt = 0;
  for (const auto& run : runs) {
    for (const auto& e : run.events) {
      if (e.source != "controller" || e.what != what) continue;
      if (first.empty())
        first = "at " + virtualTime(e.time) + " (seed " + std::to_string(run.seed) + "): " + e.detail;
      ++runsWithIt;
      break;
    }
  }
  return first;
}

// "cfg: reads NAME, WHAT (N ticks found nothing); did you mean X?" per name,
// summed over the config's runs.
std::string unknownReads(const std::string& config, const std::vector<RunResult>& runs,
                         std::vector<UnknownRead> RunResult::*which, const char* what) {
  std::map<std::string, std::pair<std::uint64_t, std::string>> byName;
  for (const auto& run : runs) {
    for (const auto& u : run.*which) {
      auto& [count, suggestion] = byName[u.name];
      count += u.ticks;
      suggestion = u.suggestion;
    }
  }
  std::string out;
  for (const auto& [name, read] : byName) {
    out += "  " + config + ": reads " + name + ", " + what + " (" + std::to_string(read.first) +
           " ticks found nothing)";
    if (!read.second.empty()) out += "; did you mean " + read.second + "?";
    out += "\n";
  }
  return out;
}

std::string configProblems(const std::string& config, const std::vector<RunResult>& runs) {
  std::string out;
  std::uint64_t ticks = 0, failed = 0;
  std::size_t failingRuns = 0;
  for (const auto& run : runs) {
    ticks += run.stats.policyTicks;
    failed += run.stats.policyErrors;
    failingRuns += run.stats.policyErrors > 0;
  }
  if (failed > 0) {
    std::size_t withError = 0, quarantined = 0;
    std::string error = firstEvent(runs, "policy_error", withError);
    std::string quarantine = firstEvent(runs, "quarantine", quarantined);
    out += "  " + config + ": " + std::to_string(failed) + " of " + std::to_string(ticks) + " policy ticks failed in " +
           runsOf(failingRuns, runs.size()) + "\n";
    if (!error.empty()) out += "    first failure " + error + "\n";
    if (quarantined > 0)
      out += "    quarantined in " + runsOf(quarantined, runs.size()) + ", first " + quarantine + "\n";
  }
  out += unknownReads(config, runs, &RunResult::unpublishedMetrics, "which no model publishes");
  out += unknownReads(config, runs, &RunResult::ungovernedKnobs, "a knob the scenario does not govern");
  return out;
}

}  // namespace

std::string problemsText(const SimReport& report) {
  std::string out;
  for (std::size_t c = 0; c < report.configs.size() && c < report.runs.size(); ++c)
    out += configProblems(report.configs[c].name, report.runs[c]);
  if (out.empty()) return out;
  return "problems (details in events.csv; docs/sim-models.md lists the metrics the models publish):\n" + out;
}

std::string summaryTable(const SimReport& report) {
  const Scenario& s = report.scenario;
  std::string out = "scenario " + s.name + ": " + virtualTime(s.duration) + " simulated at " +
                    formatNumber(s.step) + " s steps, SLO p95 " + formatNumber(s.sloLatencyP95) + " s, seed";
  out += report.seeds.size() == 1 ? " " : "s ";
  for (std::size_t i = 0; i < report.seeds.size(); ++i) out += (i ? "," : "") + std::to_string(report.seeds[i]);
  if (report.seeds.size() > 1) out += " (means)";
  if (report.perturb) out += ", perturbed";
  out += "; > primary score\n";
  std::vector<std::size_t> widths;
  out += pad("", kLabelWidth, false);
  for (const auto& c : report.configs) {
    widths.push_back(std::max(kMinColumn, c.name.size() + 3));
    out += pad(c.name, widths.back(), true);
  }
  out += "\n";
  std::vector<std::vector<NamedScore>> columns;
  for (const auto& m : report.means) columns.push_back(namedScores(m));
  if (columns.empty()) return out;
  for (std::size_t row = 0; row < columns.front().size(); ++row) {
    std::vector<double> values;
    for (const auto& col : columns) values.push_back(negligible(col[row].value) ? 0.0 : col[row].value);
    const std::optional<double> winner = best(values, columns.front()[row].better);
    const bool primary = s.primaryScore == columns.front()[row].key;
    out += pad(std::string(primary ? "> " : "") + columns.front()[row].label, kLabelWidth, false);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const std::string number = negligible(columns[c][row].value) ? "~0" : formatNumber(values[c]);
      std::string cell = number + (winner && values[c] == *winner ? " *" : "  ");
      out += pad(cell, widths[c], true);
    }
    out += "\n";
  }
  return out;
}

}  // namespace trimtab::sim
