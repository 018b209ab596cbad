// SPDX-License-Identifier: Apache-2.0
#include "report_text.h"

#include <algorithm>

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

// The index of the best value, or -1 when all are equal or none is better.
int best(const std::vector<double>& values, Better better) {
  if (better == Better::None || values.size() < 2) return -1;
  auto it = better == Better::Lower ? std::min_element(values.begin(), values.end())
                                    : std::max_element(values.begin(), values.end());
  if (std::all_of(values.begin(), values.end(), [&](double v) { return v == *it; })) return -1;
  return static_cast<int>(it - values.begin());
}

}  // namespace

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
    for (const auto& col : columns) values.push_back(col[row].value);
    const int winner = best(values, columns.front()[row].better);
    const bool primary = s.primaryScore == columns.front()[row].key;
    out += pad(std::string(primary ? "> " : "") + columns.front()[row].label, kLabelWidth, false);
    for (std::size_t c = 0; c < columns.size(); ++c) {
      std::string cell = formatNumber(values[c]) + (static_cast<int>(c) == winner ? " *" : "  ");
      out += pad(cell, widths[c], true);
    }
    out += "\n";
  }
  return out;
}

}  // namespace trimtab::sim
