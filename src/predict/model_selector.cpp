// SPDX-License-Identifier: Apache-2.0
#include "predict/model_selector.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace trimtab {

namespace {
constexpr double kMinHistoryFraction = 1.0 / 3;  // of the span, before every origin
constexpr std::size_t kMinTestPoints = 2;
}  // namespace

std::vector<std::string> candidatesFor(SeriesShape shape) {
  std::vector<std::pair<int, std::string>> ranked;
  for (const std::string& name : estimatorNames()) {
    auto e = makeEstimator(name);
    int rank = e ? e->preference(shape) : Estimator::kUnsuited;
    if (rank != Estimator::kUnsuited) ranked.emplace_back(rank, name);
  }
  std::stable_sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (auto& [rank, name] : ranked) out.push_back(std::move(name));
  return out;
}

ModelChoice chooseModel(std::span<const Point> points, std::span<const std::string> candidates, Seconds horizon,
                        const EstimatorOptions& options, const std::string& fallback) {
  ModelChoice choice;
  choice.model = fallback;
  std::vector<Point> decimated;
  if (points.size() > kMaxBacktestPoints) {
    std::size_t k = (points.size() + kMaxBacktestPoints - 1) / kMaxBacktestPoints;
    // Keep the newest point so the origins sit where they would on the full window.
    for (std::size_t i = (points.size() - 1) % k; i < points.size(); i += k) decimated.push_back(points[i]);
    points = decimated;
  }
  if (points.size() < 2 * kMinFitPoints || candidates.empty()) return choice;
  Seconds first = points.front().t, last = points.back().t, span = last - first;
  Seconds h = std::min(horizon, span / 3);
  if (!(h > 0)) return choice;

  struct Split {
    std::size_t originEnd, testEnd;  // prefix [0, originEnd), test [originEnd, testEnd)
    Seconds origin;
  };
  std::vector<Split> splits;
  auto byTime = [](const Point& p, Seconds t) { return p.t <= t; };
  for (int j = 0; j < kBacktestOrigins; ++j) {
    Seconds o = last - h * (1 + 0.5 * j);
    if (o - first < kMinHistoryFraction * span) break;
    auto oe = static_cast<std::size_t>(
        std::partition_point(points.begin(), points.end(), [&](const Point& p) { return byTime(p, o); }) -
        points.begin());
    auto te = static_cast<std::size_t>(
        std::partition_point(points.begin(), points.end(), [&](const Point& p) { return byTime(p, o + h); }) -
        points.begin());
    if (oe >= kMinFitPoints && te - oe >= kMinTestPoints) splits.push_back({oe, te, o});
  }
  if (splits.empty()) return choice;

  for (const std::string& name : candidates) {
    auto model = makeEstimator(name, options);
    if (!model) continue;
    ModelScore score{name, 0, 0};
    double weightSum = 0;
    for (const Split& s : splits) {
      SeriesView view{points.first(s.originEnd)};
      if (!model->fit(view).ok()) break;
      double num = 0, den = 0;
      double peak = -std::numeric_limits<double>::infinity(), predictedPeak = peak;
      double excursion = model->residuals().excursion();
      for (std::size_t i = s.originEnd; i < s.testEnd; ++i) {
        double w = (points[i].t - s.origin) / h;
        double mean = model->at(points[i].t).mean;
        num += w * std::abs(points[i].v - mean);
        den += w;
        peak = std::max(peak, points[i].v);
        predictedPeak = std::max(predictedPeak, mean + excursion);
      }
      if (!(den > 0) || !std::isfinite(num)) break;
      // What an exhaustion ETA needs right is how high the samples go, not
      // only where their mean is: the peak error counts as much.
      num += den * std::abs(peak - predictedPeak);
      // The newest origin says most about the regime the series is in now.
      double recency = std::ldexp(1.0, -score.origins);
      score.error += recency * num / den;
      weightSum += recency;
      ++score.origins;
    }
    if (score.origins != static_cast<int>(splits.size())) continue;
    score.error /= weightSum;
    choice.scores.push_back(score);
  }
  if (choice.scores.empty()) return choice;
  const ModelScore* best = &choice.scores.front();
  for (const ModelScore& s : choice.scores) {
    if (s.error < (1 - kSelectionMargin) * best->error) best = &s;
  }
  choice.model = best->model;
  choice.backtested = true;
  return choice;
}

}  // namespace trimtab
