// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/metric.h"
#include "common/result.h"

namespace trimtab {

// The arguments of one question about one series (ctx.predict's options).
struct PredictOptions {
  Seconds window = 3600;       // history used, back from the newest sample
  Seconds horizon = 4 * 3600;  // eta: "crossing within the horizon"; trend: backtest horizon
  std::string model;           // force an estimator by name; empty: chosen per series by backtest
  bool counter = false;        // counter semantics: decreases are resets, later values offset
  double alpha = 0.01;         // significance level of "there is an upward trend"
  double level = 0.95;         // coverage of the intervals
};

enum class EtaStatus {
  Crossing,      // significant upward trend and the limit is reached within the search range
  None,          // no significant upward trend (or no crossing in sight)
  Already,       // the newest sample is at or above the limit
  Insufficient,  // too few samples in the window
};
std::string_view etaStatusName(EtaStatus status);  // "crossing", "none", "already", "insufficient"

inline constexpr double kNoEta = std::numeric_limits<double>::infinity();

struct EtaAnswer {
  EtaStatus status = EtaStatus::Insufficient;
  Seconds asOf = 0;          // time of the newest sample used; seconds count from here
  Seconds seconds = kNoEta;  // median time until a sample reaches the limit (kNoEta unless Crossing/Already)
  Seconds low = kNoEta;      // prediction interval of `seconds` at options.level
  Seconds high = kNoEta;     // kNoEta when the slow end never crosses
  double probability = 0;    // of a sample reaching the limit within the horizon; 0 unless Crossing/Already
  double pValue = 1;         // Mann-Kendall p of "no upward trend"
  double slope = 0;          // per second, at asOf
  std::string model;         // the estimator with the largest weight in the answering ensemble
  std::string shape;         // "plain", "sawtooth" or "seasonal": which trend test was used
};

struct TrendAnswer {
  bool enoughData = false;
  Seconds asOf = 0;
  double slope = 0;          // per second, at asOf (deseasonalized for holt_winters, floor for lower_envelope)
  double pValue = 1;         // two-sided Mann-Kendall p of "no trend"
  bool significant = false;  // pValue < options.alpha
  std::string model;
  std::string shape;
};

struct ForecastAnswer {
  bool enoughData = false;
  Seconds at = 0;  // the time forecast: asOf + horizon
  double value = 0;
  double low = 0, high = 0;  // prediction interval for one observation at options.level
  std::string model;
};

// Bounds on the service's memory and CPU.
struct PredictLimits {
  std::size_t maxSeries = 1000;     // cached series states; the least recently used is dropped beyond
  std::size_t refitDivisor = 64;    // full refit after window/refitDivisor new points (bounded rate)
  std::size_t reselectDivisor = 4;  // model choice (backtest) after window/reselectDivisor new points
  std::size_t minPoints = 5;        // fewer cleaned samples: Insufficient
};

struct PredictStats {
  std::uint64_t fits = 0;        // full model fits
  std::uint64_t refreshes = 0;   // calls answered without a full refit (running sums where models have them)
  std::uint64_t selections = 0;  // backtests run (or forced choices)
  std::uint64_t fallbacks = 0;   // refits where a chosen or forced model no longer fitted (dropped; ols if none left)
  std::uint64_t evictions = 0;
  std::uint64_t spikes = 0;  // outliers left out by cleaning (cached series)
};

// Predictions for policies (ctx.predict): exhaustion ETA, trend, forecast.
//
// `points` is the series' window in time order, as the store returns it; it
// may hold NaN, gaps, duplicate times, outliers and counter resets (see
// SeriesWindow). `key` names the series (e.g. its canonical series key):
// with a key the service keeps the cleaned window, running sums, the series'
// shape and its answering models (a small ensemble chosen by rolling-origin
// backtest, see ModelEnsemble) between calls and only processes new samples,
// so calling it every tick with the same growing window is cheap; one state
// per (key, window, horizon, model, counter). An empty key computes from
// scratch. See docs/predict.md.
//
// Bad arguments (non-finite limit, window or horizon <= 0, unknown model,
// alpha or level outside (0, 1)) are errors; too little data is an answer.
// Every number in an answer is finite except the kNoEta times: a forecast
// that would overflow (values near the largest double) is an error.
//
// Thread safety: none; owned by the loop thread.
class PredictService {
 public:
  explicit PredictService(PredictLimits limits = {});
  ~PredictService();
  PredictService(const PredictService&) = delete;
  PredictService& operator=(const PredictService&) = delete;

  Result<EtaAnswer> eta(std::string_view key, std::span<const Point> points, double limit,
                        const PredictOptions& options = {});
  Result<TrendAnswer> trend(std::string_view key, std::span<const Point> points, const PredictOptions& options = {});
  // Value expected `horizon` seconds after the newest sample; the model is
  // chosen by backtest at that horizon.
  Result<ForecastAnswer> forecast(std::string_view key, std::span<const Point> points, Seconds horizon,
                                  const PredictOptions& options = {});

  // Estimator names a forced `model` may use.
  static std::vector<std::string> models();
  const PredictStats& stats() const { return stats_; }
  std::size_t cachedSeries() const { return states_.size(); }

 private:
  struct SeriesState;
  Result<SeriesState*> prepare(std::string_view key, std::span<const Point> points, Seconds horizon,
                               const PredictOptions& options);
  void refit(SeriesState& s, Seconds horizon);

  PredictLimits limits_;
  PredictStats stats_;
  std::unordered_map<std::string, std::unique_ptr<SeriesState>> states_;
  std::unique_ptr<SeriesState> scratch_;  // state of an unkeyed call
  std::uint64_t clock_ = 0;               // use counter for LRU
};

}  // namespace trimtab
