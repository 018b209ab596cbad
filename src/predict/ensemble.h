// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "predict/crossing.h"
#include "predict/estimator.h"
#include "predict/model_selector.h"

namespace trimtab {

// Members of an ensemble at most, and how much worse than the best a
// model's backtest error may be to join.
inline constexpr std::size_t kMaxEnsembleMembers = 3;
inline constexpr double kMaxEnsembleErrorRatio = 4.0;

// The models that answer for one series: the backtest's best few, each
// weighted by the inverse square of its backtest error (Bates-Granger
// forecast combination), so a near-tie between two models does not flip
// answers from one to the other, and a model that extrapolates well but
// says little (a wide interval) does not decide alone. A forced model, or a
// backtest that could not run, gives an ensemble of one.
//
// Thread safety: none.
class ModelEnsemble {
 public:
  struct Member {
    std::string name;
    double weight = 0;
    std::unique_ptr<Estimator> model;
  };

  // Members from a backtest (best first). Keeps the estimators of members
  // that stay, so their incremental state survives.
  void choose(const ModelChoice& choice, const EstimatorOptions& options);
  // One member.
  void force(const std::string& name, const EstimatorOptions& options);

  // Fits every member; members that fail are dropped and the weights
  // renormalized; with none left, `fallback` alone is fitted. Returns how
  // many members were dropped; empty() afterwards when nothing fits.
  std::size_t fit(const SeriesView& view, const std::string& fallback, const EstimatorOptions& options);
  // O(1) refits where members support it (see Estimator::refresh).
  void refresh(const SeriesView& view);

  bool empty() const { return members_.empty(); }
  const std::vector<Member>& members() const { return members_; }
  // The heaviest member's name.
  const std::string& leader() const;

  double slope(Seconds t) const;  // weighted mean of the members' slopes
  // Mixture of the members: weighted mean, and a standard deviation for one
  // observation that includes the members' disagreement.
  double mean(Seconds t) const;
  double observationSd(Seconds t) const;
  // Weighted: probability (mean), ETA and interval ends (weighted medians).
  CrossingEstimate crossing(Seconds now, double limit, Seconds horizon, double level) const;

 private:
  std::vector<Member> members_;
};

// Weighted median of values (kNever allowed). REQUIRES: equal sizes, weights >= 0.
double weightedMedian(std::vector<std::pair<double, double>> valueWeight);

}  // namespace trimtab
