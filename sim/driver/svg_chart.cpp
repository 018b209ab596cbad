// SPDX-License-Identifier: Apache-2.0
#include "svg_chart.h"

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <set>

#include "number_format.h"

namespace trimtab::sim {

namespace {

constexpr int kLeft = 70, kRight = 16, kTop = 26, kBottom = 30;
constexpr int kEventRowHeight = 18;
constexpr int kEventLabelWidth = 190;
constexpr double kDay = 86400, kHour = 3600;
constexpr int kYTicks = 5;

// A "nice" tick step (1, 2, 5 x 10^k) for a range split in about n parts.
double niceStep(double range, int n) {
  if (!(range > 0)) return 1;
  const double raw = range / n;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * magnitude) return m * magnitude;
  return 10 * magnitude;
}

struct XAxis {
  double unit;
  const char* suffix;
  double step;
};

XAxis xAxis(double xMax) {
  if (xMax > 2 * kDay) return {kDay, "d", niceStep(xMax / kDay, 10)};
  if (xMax > 2 * kHour) return {kHour, "h", niceStep(xMax / kHour, 12)};
  if (xMax > 120) return {60, "min", niceStep(xMax / 60, 10)};
  return {1, "s", niceStep(xMax, 10)};
}

std::string xTicks(double xMax, int plotWidth, int y0, int height) {
  std::string out;
  const XAxis a = xAxis(xMax);
  for (double t = 0; t <= xMax / a.unit + 1e-9; t += a.step) {
    const double x = kLeft + plotWidth * (t * a.unit / xMax);
    out += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" class=\"grid\"/>", fixedNumber(x, 1),
                       y0, y0 + height);
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}{}</text>",
                       fixedNumber(x, 1), y0 + height + 14, shortNumber(t), a.suffix);
  }
  return out;
}

}  // namespace

const std::string& seriesColor(std::size_t index) {
  static const std::array<std::string, 8> kColors = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                                     "#9467bd", "#8c564b", "#e377c2", "#17becf"};
  return kColors[index % kColors.size()];
}

std::string shortNumber(double v) {
  const double a = std::abs(v);
  if (a >= 1e12) return formatNumber(std::round(v / 1e11) / 10) + "T";
  if (a >= 1e9) return formatNumber(std::round(v / 1e8) / 10) + "G";
  if (a >= 1e6) return formatNumber(std::round(v / 1e5) / 10) + "M";
  if (a >= 1e4) return formatNumber(std::round(v / 1e2) / 10) + "k";
  return fmt::format("{:.4g}", std::abs(v) < 1e-12 ? 0.0 : v);
}

std::string svgLineChart(const LineChart& chart) {
  const int plotWidth = kChartWidth - kLeft - kRight;
  const int plotHeight = kChartHeight - kTop - kBottom;
  double yMax = 0;
  for (const auto& s : chart.series)
    for (double y : s.y)
      if (std::isfinite(y)) yMax = std::max(yMax, y);
  for (const auto& l : chart.lines) yMax = std::max(yMax, l.y);
  const bool capped = chart.yCap > 0 && yMax > chart.yCap;
  if (capped) yMax = chart.yCap;
  const double step = niceStep(yMax > 0 ? yMax : 1, kYTicks);
  yMax = std::max(step, std::ceil((yMax > 0 ? yMax : 1) / step) * step);
  const double xMax = chart.xMax > 0 ? chart.xMax : 1;
  auto px = [&](double x) { return kLeft + plotWidth * std::clamp(x / xMax, 0.0, 1.0); };
  auto py = [&](double y) { return kTop + plotHeight * (1.0 - std::clamp(y / yMax, 0.0, 1.0)); };

  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\"><title>{2}</title>",
      kChartWidth, kChartHeight, htmlEscape(chart.title));
  out += fmt::format("<text x=\"{}\" y=\"16\" class=\"title\">{}{}{}</text>", kLeft, htmlEscape(chart.title),
                     chart.unit.empty() ? "" : " (" + htmlEscape(chart.unit) + ")",
                     capped ? ", clipped at " + shortNumber(yMax) : "");
  for (double y = 0; y <= yMax + step * 1e-9; y += step) {
    const std::string yy = fixedNumber(py(y), 1);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"grid\"/>", kLeft, yy,
                       kLeft + plotWidth, yy);
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{}</text>", kLeft - 6, yy,
                       shortNumber(y));
  }
  out += xTicks(xMax, plotWidth, kTop, plotHeight);
  for (const auto& l : chart.lines) {
    const std::string yy = fixedNumber(py(l.y), 1);
    out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"ref\"/>", kLeft, yy,
                       kLeft + plotWidth, yy);
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"reflabel\" text-anchor=\"end\">{}</text>",
                       kLeft + plotWidth - 4, fixedNumber(py(l.y) - 4, 1), htmlEscape(l.label));
  }
  for (const auto& s : chart.series) {
    // A path, so that missing values (NaN) break the line instead of
    // bridging the gap.
    std::string d;
    d.reserve(s.x.size() * 14);
    bool pen = false;
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) {
        pen = false;
        continue;
      }
      d += pen ? 'L' : 'M';
      d += fixedNumber(px(s.x[i]), 1) + "," + fixedNumber(py(s.y[i]), 1);
      pen = true;
    }
    if (d.empty()) continue;
    out += fmt::format("<path fill=\"none\" stroke=\"{}\" stroke-width=\"1.3\"{} d=\"{}\"><title>{}</title></path>",
                       s.color, s.dashed ? " stroke-dasharray=\"5 3\"" : "", d, htmlEscape(s.name));
  }
  out += "</svg>";
  return out;
}

bool isFlat(const LineChart& chart) {
  bool seen = false;
  double first = 0;
  for (const auto& s : chart.series) {
    for (double y : s.y) {
      if (!seen) {
        seen = true;
        first = y;
      } else if (y != first) {
        return false;
      }
    }
  }
  return true;
}

std::string svgEventChart(const EventChart& chart) {
  const int plotWidth = kChartWidth - kEventLabelWidth - kRight;
  const int height = kTop + kEventRowHeight * static_cast<int>(std::max<std::size_t>(1, chart.rows.size())) + kBottom;
  const double xMax = chart.xMax > 0 ? chart.xMax : 1;
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "role=\"img\"><title>{2}</title>",
      kChartWidth, height, htmlEscape(chart.title));
  out += fmt::format("<text x=\"{}\" y=\"16\" class=\"title\">{}</text>", kEventLabelWidth, htmlEscape(chart.title));
  // The tick helper measures from kLeft; events use a wider label column.
  std::string ticks = xTicks(xMax, plotWidth, kTop, kEventRowHeight * static_cast<int>(chart.rows.size()));
  out += "<g transform=\"translate(" + std::to_string(kEventLabelWidth - kLeft) + ",0)\">" + ticks + "</g>";
  for (std::size_t r = 0; r < chart.rows.size(); ++r) {
    const auto& row = chart.rows[r];
    const int y = kTop + kEventRowHeight * static_cast<int>(r);
    out += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"end\">{} ({})</text>",
                       kEventLabelWidth - 6, y + 13, htmlEscape(row.label), row.times.size());
    // One mark per pixel column is enough: a dense row stays small.
    std::set<int> columns;
    for (double t : row.times) {
      columns.insert(static_cast<int>(std::lround(plotWidth * std::clamp(t / xMax, 0.0, 1.0))));
      if (columns.size() >= kMaxMarksPerRow) break;
    }
    std::string path;
    for (int c : columns) path += fmt::format("M{} {}v{}", kEventLabelWidth + c, y + 3, kEventRowHeight - 6);
    if (!path.empty())
      out += fmt::format("<path d=\"{}\" stroke=\"{}\" stroke-width=\"1.5\"/>", path, row.color);
  }
  out += "</svg>";
  return out;
}

}  // namespace trimtab::sim
