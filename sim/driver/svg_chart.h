// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace trimtab::sim {

struct ChartSeries {
  std::string name;
  std::string color;      // CSS color
  std::vector<double> x;  // seconds of virtual time
  std::vector<double> y;
  bool dashed = false;
};

// A horizontal reference line (SLO target, memory limit).
struct ChartLine {
  double y = 0;
  std::string label;
};

// One time-series chart: lines over virtual time, with axes, ticks and an
// optional reference line. Coordinates are printed with fixed decimals, so
// the same data gives the same text.
struct LineChart {
  std::string title;
  std::string unit;  // axis label suffix, e.g. "s", "rps", "bytes"
  double xMax = 0;   // end of the run (s)
  std::vector<ChartSeries> series;
  std::vector<ChartLine> lines;
  double yCap = 0;   // > 0: the axis stops here and higher points are drawn at the top
};

// True when every point of every series has the same value (nothing to see).
bool isFlat(const LineChart& chart);

// One row of marks per kind of event (OOM kills, restarts, knob changes, ...).
struct EventRow {
  std::string label;
  std::string color;
  std::vector<double> times;
};

struct EventChart {
  std::string title;
  double xMax = 0;
  std::vector<EventRow> rows;
};

inline constexpr int kChartWidth = 960;
inline constexpr int kChartHeight = 220;
inline constexpr std::size_t kMaxMarksPerRow = 3000;  // more are merged into the last pixel columns

// Self-contained inline SVG (no script, no external reference).
std::string svgLineChart(const LineChart& chart);
std::string svgEventChart(const EventChart& chart);

// Colors used for configs, in order (cycled).
const std::string& seriesColor(std::size_t index);

// "1.5k", "2.1M", "3G", "0.25": short tick labels.
std::string shortNumber(double v);

}  // namespace trimtab::sim
