// SPDX-License-Identifier: Apache-2.0
#include "predict/ensemble.h"

#include <algorithm>
#include <cmath>

namespace trimtab {

namespace {
constexpr double kErrorFloor = 1e-300;  // a perfect backtest still gets a finite weight

void normalize(std::vector<ModelEnsemble::Member>& members) {
  double total = 0;
  for (const auto& m : members) total += m.weight;
  for (auto& m : members) m.weight = total > 0 ? m.weight / total : 1.0 / static_cast<double>(members.size());
}
}  // namespace

double weightedMedian(std::vector<std::pair<double, double>> vw) {
  if (vw.empty()) return CrossingEstimate::kNever;
  std::sort(vw.begin(), vw.end());
  double total = 0;
  for (const auto& [v, w] : vw) total += w;
  double acc = 0;
  for (const auto& [v, w] : vw) {
    acc += w;
    if (acc >= total / 2) return v;
  }
  return vw.back().first;
}

void ModelEnsemble::choose(const ModelChoice& choice, const EstimatorOptions& options) {
  if (!choice.backtested || choice.scores.empty()) {
    force(choice.model, options);
    return;
  }
  // The winner first (it may not have the lowest raw error: near-ties go to
  // the preferred model), then the others by error.
  std::vector<ModelScore> ranked = choice.scores;
  std::stable_sort(ranked.begin(), ranked.end(), [&](const ModelScore& a, const ModelScore& b) {
    if ((a.model == choice.model) != (b.model == choice.model)) return a.model == choice.model;
    return a.error < b.error;
  });
  double best = std::max(ranked.front().error, kErrorFloor);
  std::vector<Member> next;
  for (const ModelScore& s : ranked) {
    if (next.size() >= kMaxEnsembleMembers) break;
    if (!next.empty() && s.error > kMaxEnsembleErrorRatio * best) continue;
    Member m{s.model, 1.0 / std::pow(std::max(s.error, kErrorFloor * best) / best, 2), nullptr};
    for (auto& old : members_) {
      if (old.name == s.model && old.model) m.model = std::move(old.model);
    }
    if (!m.model) m.model = makeEstimator(s.model, options);
    if (m.model) next.push_back(std::move(m));
  }
  members_ = std::move(next);
  normalize(members_);
}

void ModelEnsemble::force(const std::string& name, const EstimatorOptions& options) {
  std::unique_ptr<Estimator> keep;
  for (auto& old : members_) {
    if (old.name == name && old.model) keep = std::move(old.model);
  }
  members_.clear();
  if (!keep) keep = makeEstimator(name, options);
  if (keep) members_.push_back({name, 1.0, std::move(keep)});
}

std::size_t ModelEnsemble::fit(const SeriesView& view, const std::string& fallback, const EstimatorOptions& options) {
  std::size_t dropped = std::erase_if(members_, [&](Member& m) { return !m.model->fit(view).ok(); });
  if (members_.empty()) {
    force(fallback, options);
    std::erase_if(members_, [&](Member& m) { return !m.model->fit(view).ok(); });
  }
  normalize(members_);
  return dropped;
}

void ModelEnsemble::refresh(const SeriesView& view) {
  for (auto& m : members_) m.model->refresh(view);
}

const std::string& ModelEnsemble::leader() const {
  static const std::string kNone;
  if (members_.empty()) return kNone;
  return std::max_element(members_.begin(), members_.end(),
                          [](const Member& a, const Member& b) { return a.weight < b.weight; })
      ->name;
}

double ModelEnsemble::slope(Seconds t) const {
  double s = 0;
  for (const auto& m : members_) s += m.weight * m.model->slope(t);
  return s;
}

double ModelEnsemble::mean(Seconds t) const {
  double s = 0;
  for (const auto& m : members_) s += m.weight * m.model->at(t).mean;
  return s;
}

double ModelEnsemble::observationSd(Seconds t) const {
  double mu = mean(t), var = 0;
  for (const auto& m : members_) {
    LevelForecast f = m.model->at(t);
    double sd = m.model->residuals().sd;
    var += m.weight * (f.se * f.se + sd * sd + (f.mean - mu) * (f.mean - mu));
  }
  return std::sqrt(std::max(var, 0.0));
}

CrossingEstimate ModelEnsemble::crossing(Seconds now, double limit, Seconds horizon, double level) const {
  CrossingEstimate out;
  std::vector<std::pair<double, double>> eta, low, high;
  for (const auto& m : members_) {
    CrossingEstimate c = estimateCrossing(*m.model, now, limit, horizon, level);
    out.probability += m.weight * c.probability;
    eta.emplace_back(c.eta, m.weight);
    low.emplace_back(c.low, m.weight);
    high.emplace_back(c.high, m.weight);
  }
  out.eta = weightedMedian(eta);
  out.low = std::min(out.eta, weightedMedian(low));
  out.high = std::max(out.eta, weightedMedian(high));
  out.found = std::isfinite(out.eta);
  out.probability = std::clamp(out.probability, 0.0, 1.0);
  return out;
}

}  // namespace trimtab
