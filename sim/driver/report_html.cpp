// SPDX-License-Identifier: Apache-2.0
#include "report_html.h"

#include <fmt/format.h>

#include <algorithm>
#include <functional>
#include <map>

#include "number_format.h"
#include "svg_chart.h"

namespace trimtab::sim {

namespace {

constexpr std::size_t kMaxDecisionRows = 200;  // per config, in the decisions table
constexpr double kLatencyCapSlos = 4;          // the latency chart's axis ends at 4x the SLO
constexpr double kEtaCapSeconds = 4 * 3600;    // the prediction's horizon

const char* kStyle = R"(<style>
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.best{font-weight:bold;background:#e8f4e8}
.legend span{display:inline-block;margin-right:16px}.swatch{display:inline-block;width:14px;height:4px;margin-right:5px;vertical-align:middle}
svg{display:block;margin:8px 0}.grid{stroke:#eee}.tick{font-size:10px;fill:#666}.title{font-size:12px;font-weight:bold}
.ref{stroke:#999;stroke-dasharray:4 3}.reflabel{font-size:10px;fill:#888}.small{font-size:12px;color:#555}
td.reason{text-align:left;font-size:12px}
</style>)";

using RowValue = std::function<double(const TimelineRow&)>;

// The first seed of each config: charts show one run per config.
LineChart chartOf(const SimReport& r, const std::string& title, const std::string& unit, const RowValue& value) {
  LineChart chart{title, unit, r.scenario.duration, {}, {}};
  for (std::size_t c = 0; c < r.configs.size(); ++c) {
    if (r.runs[c].empty()) continue;
    ChartSeries s{r.configs[c].name, seriesColor(c), {}, {}};
    for (const auto& row : r.runs[c].front().timeline.rows) {
      s.x.push_back(row.time);
      s.y.push_back(value(row));
    }
    chart.series.push_back(std::move(s));
  }
  return chart;
}

std::string summaryTableHtml(const SimReport& r) {
  std::string out = "<table><tr><th>score</th>";
  for (std::size_t c = 0; c < r.configs.size(); ++c)
    out += fmt::format("<th><span class=\"swatch\" style=\"background:{}\"></span>{}</th>", seriesColor(c),
                       htmlEscape(r.configs[c].name));
  out += "</tr>";
  std::vector<std::vector<NamedScore>> columns;
  for (const auto& m : r.means) columns.push_back(namedScores(m));
  if (columns.empty()) return out + "</table>";
  for (std::size_t row = 0; row < columns.front().size(); ++row) {
    const Better better = columns.front()[row].better;
    std::vector<double> values;
    for (const auto& col : columns) values.push_back(col[row].value);
    double best = values.front();
    for (double v : values) best = better == Better::Higher ? std::max(best, v) : std::min(best, v);
    const bool differ = std::any_of(values.begin(), values.end(), [&](double v) { return v != best; });
    out += "<tr><td>" + htmlEscape(columns.front()[row].label) + "</td>";
    for (double v : values) {
      const bool mark = better != Better::None && differ && v == best;
      out += std::string(mark ? "<td class=\"best\">" : "<td>") + formatNumber(v) + "</td>";
    }
    out += "</tr>";
  }
  return out + "</table>";
}

std::string eventsHtml(const SimReport& r) {
  std::string out;
  for (std::size_t c = 0; c < r.configs.size(); ++c) {
    if (r.runs[c].empty()) continue;
    const RunResult& run = r.runs[c].front();
    std::map<std::string, std::vector<double>> rows;
    for (const auto& e : run.events) rows[e.source == "controller" ? e.what : e.source + " " + e.what].push_back(e.time);
    EventChart chart{"events: " + r.configs[c].name + " (seed " + std::to_string(run.seed) + ")",
                     r.scenario.duration, {}};
    for (auto& [label, times] : rows) chart.rows.push_back(EventRow{label, seriesColor(c), std::move(times)});
    if (chart.rows.empty()) {
      out += "<p class=\"small\">" + htmlEscape(r.configs[c].name) + ": no events.</p>";
      continue;
    }
    out += svgEventChart(chart);
  }
  return out;
}

std::string decisionsHtml(const SimReport& r) {
  std::string out;
  for (std::size_t c = 0; c < r.configs.size(); ++c) {
    if (r.runs[c].empty() || r.configs[c].policies.empty()) continue;
    const RunResult& run = r.runs[c].front();
    out += "<h3>" + htmlEscape(r.configs[c].name) + "</h3>";
    out += "<table><tr><th>time</th><th>policy</th><th>knob</th><th>change</th><th>verdict</th><th>reason</th></tr>";
    std::size_t shown = 0, changes = 0;
    for (const auto& rec : run.decisions) {
      const Decision& d = rec.decision;
      if (d.verdict != Verdict::Apply && d.verdict != Verdict::DryRun) continue;  // vetoes: in the file
      if (++changes > kMaxDecisionRows) continue;
      ++shown;
      std::string why = d.reason;
      if (!d.rule.empty()) why += " [" + d.rule + "]";
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{} &#8594; {}</td><td>{}</td><td class=\"reason\">{}</td></tr>",
                         virtualTime(d.time), htmlEscape(d.policy), htmlEscape(d.knob), formatNumber(d.previous),
                         formatNumber(d.decided), verdictName(d.verdict), htmlEscape(why));
    }
    out += "</table>";
    if (changes > shown) out += fmt::format("<p class=\"small\">{} more changes in decisions-*.jsonl.</p>", changes - shown);
    if (run.decisions.size() > changes)
      out += fmt::format("<p class=\"small\">Vetoed proposals (first {} kept) are in decisions-*.jsonl.</p>",
                         run.decisions.size() - changes);
  }
  return out.empty() ? "<p class=\"small\">No policy ran.</p>" : out;
}

}  // namespace

std::string htmlReport(const SimReport& r) {
  const Scenario& s = r.scenario;
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>trimtab sim: " +
                    htmlEscape(s.name) + "</title>" + kStyle + "</head><body>\n";
  out += "<h1>trimtab sim: " + htmlEscape(s.name) + "</h1>\n";
  if (!s.description.empty()) out += "<p>" + htmlEscape(s.description) + "</p>\n";
  std::string seeds;
  for (auto seed : r.seeds) seeds += (seeds.empty() ? "" : ", ") + std::to_string(seed);
  out += fmt::format("<p class=\"small\">{} simulated at {} s steps; SLO p95 {} s; seeds {}{}; charts show the first "
                     "seed, bucketed every {} s (maxima of latency, memory and connections).</p>\n",
                     virtualTime(s.duration), formatNumber(s.step), formatNumber(s.sloLatencyP95), seeds,
                     r.perturb ? " (perturbed)" : "", formatNumber(s.sampleInterval()));
  out += "<div class=\"legend\">";
  for (std::size_t c = 0; c < r.configs.size(); ++c) {
    const auto& config = r.configs[c];
    std::string what = config.description;
    if (!config.policies.empty())
      what += (what.empty() ? "" : "; ") + std::to_string(config.policies.size()) +
              (config.policies.size() == 1 ? " policy" : " policies");
    out += fmt::format("<span><span class=\"swatch\" style=\"background:{}\"></span><b>{}</b> {}</span>",
                       seriesColor(c), htmlEscape(config.name), htmlEscape(what));
  }
  out += "</div>\n<h2>Scores</h2>\n" + summaryTableHtml(r) + "\n<h2>Over time</h2>\n";

  double limit = 0;
  for (const auto& perConfig : r.runs)
    for (const auto& run : perConfig) limit = std::max(limit, run.memoryLimitBytes);
  std::vector<LineChart> charts;
  charts.push_back(chartOf(r, "offered load", "requests/s", [](const TimelineRow& x) { return x.rps; }));
  LineChart p95 = chartOf(r, "p95 latency, worst step of each bucket", "s",
                          [](const TimelineRow& x) { return x.latencyP95Max; });
  p95.lines.push_back(ChartLine{s.sloLatencyP95, "SLO " + formatNumber(s.sloLatencyP95) + " s"});
  p95.yCap = kLatencyCapSlos * s.sloLatencyP95;  // timeouts would flatten everything else
  charts.push_back(std::move(p95));
  charts.push_back(chartOf(r, "errors per bucket", "requests", [](const TimelineRow& x) { return x.errors; }));
  LineChart rss = chartOf(r, "resident memory, peak of each bucket", "bytes",
                          [](const TimelineRow& x) { return x.rssMaxBytes; });
  if (limit > 0) rss.lines.push_back(ChartLine{limit, "limit " + shortNumber(limit)});
  charts.push_back(std::move(rss));
  charts.push_back(chartOf(r, "open connections, peak", "connections",
                           [](const TimelineRow& x) { return x.connectionsMax; }));
  charts.push_back(chartOf(r, "cache hit ratio", "", [](const TimelineRow& x) { return x.hitRatio; }));
  charts.push_back(chartOf(r, "stale reads per bucket", "reads", [](const TimelineRow& x) { return x.staleReads; }));
  charts.push_back(chartOf(r, "scrape interval", "s", [](const TimelineRow& x) { return x.monitoringInterval; }));
  for (std::size_t k = 0; k < s.knobs.size(); ++k) {
    const auto& knob = s.knobs[k];
    charts.push_back(chartOf(r, "knob " + knob.spec.name + (knob.trigger ? " (times fired)" : ""), knob.spec.unit,
                             [k](const TimelineRow& x) { return k < x.knobs.size() ? x.knobs[k] : 0.0; }));
  }
  std::string flat;
  for (const auto& chart : charts) {
    if (!isFlat(chart)) {
      out += svgLineChart(chart) + "\n";
      continue;
    }
    const double v = chart.series.empty() || chart.series.front().y.empty() ? 0 : chart.series.front().y.front();
    flat += (flat.empty() ? "" : "; ") + chart.title + " " + formatNumber(v);
  }
  if (!flat.empty())
    out += "<p class=\"small\">Constant in the charted runs (first seed; not drawn): " + htmlEscape(flat) + ".</p>\n";
  out += "<h2>Predictions</h2>\n";
  if (limit > 0) {
    // What trimtab's predictor says from the scrapes the controller made,
    // against what happened: is the OOM kill seen coming, and how early?
    LineChart eta{"time to the memory limit: predicted from the last hour of scrapes (solid), actual time to "
                  "the next OOM kill (dashed)",
                  "s", s.duration, {}, {}};
    eta.yCap = kEtaCapSeconds;
    for (std::size_t c = 0; c < r.configs.size(); ++c) {
      if (r.runs[c].empty()) continue;
      ChartSeries predicted{r.configs[c].name + " predicted", seriesColor(c), {}, {}};
      ChartSeries actual{r.configs[c].name + " actual", seriesColor(c), {}, {}, true};
      for (const auto& row : r.runs[c].front().timeline.rows) {
        predicted.x.push_back(row.time);
        predicted.y.push_back(row.oomEtaPredicted);
        actual.x.push_back(row.time);
        actual.y.push_back(row.oomEtaActual);
      }
      eta.series.push_back(std::move(predicted));
      eta.series.push_back(std::move(actual));
    }
    out += svgLineChart(eta) + "\n<p class=\"small\">Gaps: no upward trend significant enough to predict a "
           "crossing (predicted), or no kill ahead (actual). This is the simulator asking trimtab's prediction "
           "service about the scraped resident memory; what policies asked through ctx.predict shows in their "
           "decisions' reasons.</p>\n";
  } else {
    out += "<p class=\"small\">No memory model in this scenario: nothing to predict.</p>\n";
  }
  out += "<h2>Events</h2>\n" + eventsHtml(r) + "\n<h2>Knob changes (first seed)</h2>\n" + decisionsHtml(r) + "\n";
  out += "</body></html>\n";
  return out;
}

}  // namespace trimtab::sim
