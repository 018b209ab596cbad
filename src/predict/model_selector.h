// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <span>
#include <string>
#include <vector>

#include "common/metric.h"
#include "predict/estimator.h"

namespace trimtab {

struct ModelScore {
  std::string model;
  double error = 0;  // lead-weighted absolute error, recency-weighted mean over the origins
  int origins = 0;   // origins where the model fitted (a model must fit at all of them to be chosen)
};

struct ModelChoice {
  std::string model;               // the winner, or the fallback
  std::vector<ModelScore> scores;  // every candidate that fitted at every origin, in candidate order
  bool backtested = false;         // false: too little history, fallback returned
};

// A candidate must beat the best more preferred one by this fraction of its
// error to be chosen: near-ties go to the simpler or shape-specific model.
inline constexpr double kSelectionMargin = 0.05;

// Registered estimators suited to `shape`, most preferred first (see
// Estimator::preference; equal ranks in name order).
std::vector<std::string> candidatesFor(SeriesShape shape);

// Rolling origins per backtest.
inline constexpr int kBacktestOrigins = 4;
// Longer windows are backtested on every k-th point (enough to rank models,
// and it bounds the cost of a choice).
inline constexpr std::size_t kMaxBacktestPoints = 2048;

// Rolling-origin backtest: for each origin o (the newest at
// last - h, the others spaced h/2 further back, each with at least a third
// of the window before it), every candidate is fitted on the points up to o
// and scored on the points in (o, o + h], where h = min(horizon, span/3).
// The error is the absolute error of the mean, weighted by how far past the
// origin each point lies (extrapolation is what the model is for), plus the
// error of the highest sample predicted (mean + typical excursion) against
// the highest one seen, which is what an exhaustion ETA depends on; origins
// weigh 1, 1/2, 1/4, ... from the newest, as the newest says most about the
// regime the series is in now. Candidates are taken in order and a later
// one replaces the best so far only with an error lower by kSelectionMargin.
ModelChoice chooseModel(std::span<const Point> points, std::span<const std::string> candidates, Seconds horizon,
                        const EstimatorOptions& options, const std::string& fallback = "ols");

}  // namespace trimtab
