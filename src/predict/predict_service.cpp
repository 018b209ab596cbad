// SPDX-License-Identifier: Apache-2.0
#include "predict/predict_service.h"

#include <algorithm>
#include <cmath>

#include "predict/crossing.h"
#include "predict/ensemble.h"
#include "predict/estimator.h"
#include "predict/model_selector.h"
#include "predict/normal.h"
#include "predict/series_window.h"
#include "predict/trend_test.h"

namespace trimtab {

namespace {

constexpr double kHalfLifeFraction = 0.25;  // ewls half-life, of the horizon
constexpr Seconds kDefaultHalfLife = 3600;  // when the window is unbounded
const std::string kFallbackModel = "ols";

std::string_view shapeName(SeriesShape s) {
  switch (s) {
    case SeriesShape::Sawtooth:
      return "sawtooth";
    case SeriesShape::Seasonal:
      return "seasonal";
    case SeriesShape::Plain:
      break;
  }
  return "plain";
}

Status validate(const PredictOptions& o, Seconds horizon) {
  if (!(o.window > 0)) return makeError("predict: window must be > 0 seconds");
  if (!(horizon > 0) || !std::isfinite(horizon))
    return makeError("predict: horizon must be a finite number of seconds > 0");
  if (!(o.alpha > 0 && o.alpha < 1)) return makeError("predict: alpha must be in (0, 1)");
  if (!(o.level > 0 && o.level < 1)) return makeError("predict: level must be in (0, 1)");
  if (!o.model.empty() && !EstimatorRegistry::instance().find(o.model)) {
    std::string known;
    for (const auto& n : estimatorNames()) known += (known.empty() ? "" : ", ") + n;
    return makeError("predict: unknown model '" + o.model + "' (known: " + known + ")");
  }
  return Status::success();
}

}  // namespace

std::string_view etaStatusName(EtaStatus status) {
  switch (status) {
    case EtaStatus::Crossing:
      return "crossing";
    case EtaStatus::None:
      return "none";
    case EtaStatus::Already:
      return "already";
    case EtaStatus::Insufficient:
      break;
  }
  return "insufficient";
}

struct PredictService::SeriesState {
  SeriesState(const PredictOptions& o, EstimatorOptions eo)
      : options(o),
        estimatorOptions(eo),
        window(o.window, CleaningOptions{.counter = o.counter}, eo.halfLife > 0 ? eo.halfLife : kDefaultHalfLife) {}

  PredictOptions options;
  EstimatorOptions estimatorOptions;
  SeriesWindow window;
  ModelEnsemble models;
  bool fitted = false;
  ShapeInfo shape;
  TrendEvidence evidence;
  std::size_t sinceFit = 0, sinceSelect = 0;
  std::uint64_t restarts = 0;
  std::uint64_t lastUse = 0;
};

PredictService::PredictService(PredictLimits limits) : limits_(limits) {
  limits_.maxSeries = std::max<std::size_t>(limits_.maxSeries, 1);
  limits_.refitDivisor = std::max<std::size_t>(limits_.refitDivisor, 1);
  limits_.reselectDivisor = std::max<std::size_t>(limits_.reselectDivisor, 1);
  limits_.minPoints = std::max<std::size_t>(limits_.minPoints, kMinFitPoints);
}

PredictService::~PredictService() = default;

std::vector<std::string> PredictService::models() { return estimatorNames(); }

Result<PredictService::SeriesState*> PredictService::prepare(std::string_view key, std::span<const Point> points,
                                                             Seconds horizon, const PredictOptions& options) {
  if (Status st = validate(options, horizon); !st.ok()) return st.error();
  EstimatorOptions eo;
  eo.halfLife = kHalfLifeFraction * horizon;
  eo.horizon = horizon;

  SeriesState* s = nullptr;
  if (key.empty()) {
    scratch_ = std::make_unique<SeriesState>(options, eo);
    s = scratch_.get();
  } else {
    // One state per question shape: the window, horizon and model change the answer.
    std::string full(key);
    full += '\x1f';
    full += std::to_string(options.window) + '/' + std::to_string(horizon) + '/' + options.model +
            (options.counter ? "/c" : "/g");
    auto it = states_.find(full);
    if (it == states_.end()) {
      if (states_.size() >= limits_.maxSeries) {
        auto victim = std::min_element(states_.begin(), states_.end(), [](const auto& a, const auto& b) {
          return a.second->lastUse < b.second->lastUse;
        });
        states_.erase(victim);
        ++stats_.evictions;
      }
      it = states_.emplace(std::move(full), std::make_unique<SeriesState>(options, eo)).first;
    }
    s = it->second.get();
    s->options.alpha = options.alpha;  // alpha and level do not change the state
    s->options.level = options.level;
  }
  s->lastUse = ++clock_;

  std::uint64_t spikesBefore = s->window.counts().spikes;
  std::size_t fresh = s->window.append(points);
  if (!key.empty()) stats_.spikes += s->window.counts().spikes - spikesBefore;
  s->sinceFit += fresh;
  s->sinceSelect += fresh;
  if (s->window.counts().restarts != s->restarts) {
    s->restarts = s->window.counts().restarts;
    s->models = ModelEnsemble{};  // a new process: choose again on its own history
  }
  auto pts = s->window.points();
  if (pts.size() < limits_.minPoints || !(pts.back().t > pts.front().t)) {
    s->fitted = false;
    return s;
  }
  refit(*s, horizon);
  return s;
}

void PredictService::refit(SeriesState& s, Seconds horizon) {
  auto pts = s.window.points();
  std::size_t n = pts.size();
  bool select = s.models.empty() || s.sinceSelect >= std::max<std::size_t>(1, n / limits_.reselectDivisor);
  if (select) {
    ++stats_.selections;
    s.shape = detectShape(pts);
    if (!s.options.model.empty()) {
      s.models.force(s.options.model, s.estimatorOptions);
    } else {
      // Only models that make sense for the shape compete: Holt on a sawtooth
      // follows the phase of the cycle, not the leak.
      static const std::vector<std::string> byShape[] = {candidatesFor(SeriesShape::Plain),
                                                         candidatesFor(SeriesShape::Sawtooth),
                                                         candidatesFor(SeriesShape::Seasonal)};
      s.models.choose(
          chooseModel(pts, byShape[static_cast<int>(s.shape.kind)], horizon, s.estimatorOptions, kFallbackModel),
          s.estimatorOptions);
    }
    s.sinceSelect = 0;
    s.fitted = false;
  }
  SeriesView view{pts, &s.window.linear(), &s.window.weighted()};
  if (!s.fitted || s.sinceFit >= std::max<std::size_t>(1, n / limits_.refitDivisor)) {
    s.window.rebuildSums();
    ++stats_.fits;
    // A member that does not apply to this window any more (it lost its
    // season, its sawtooth) drops out; with none left the plain line answers.
    if (s.models.fit(view, kFallbackModel, s.estimatorOptions) > 0) ++stats_.fallbacks;
    s.fitted = !s.models.empty();
    s.evidence = testTrend(pts, s.shape);
    s.sinceFit = 0;
  } else {
    s.models.refresh(view);
    ++stats_.refreshes;
  }
}

Result<EtaAnswer> PredictService::eta(std::string_view key, std::span<const Point> points, double limit,
                                      const PredictOptions& options) {
  if (!std::isfinite(limit)) return makeError("predict: eta limit must be a finite number");
  auto prepared = prepare(key, points, options.horizon, options);
  if (!prepared.ok()) return prepared.error();
  SeriesState& s = **prepared;
  EtaAnswer a;
  if (!s.fitted) return a;
  auto pts = s.window.points();
  const Point& newest = pts.back();
  a.asOf = newest.t;
  a.model = s.models.leader();
  a.shape = shapeName(s.evidence.testedAs);
  a.pValue = s.evidence.mk.pUp;
  a.slope = s.models.slope(newest.t);
  // The outlier filter holds back a newest sample that jumped until the
  // next one confirms it; "already" is about the sample itself (an OOM
  // guard must not wait a scrape for it).
  const Point* raw = points.empty() ? nullptr : &points.back();
  const bool rawAbove = raw && raw->t >= newest.t && raw->v >= limit;  // false for NaN
  if (newest.v >= limit || rawAbove) {
    if (rawAbove) a.asOf = raw->t;
    a.status = EtaStatus::Already;
    a.seconds = a.low = a.high = 0;
    a.probability = 1;
    return a;
  }
  a.status = EtaStatus::None;
  if (!(a.pValue < s.options.alpha)) return a;
  CrossingEstimate c = s.models.crossing(newest.t, limit, options.horizon, s.options.level);
  if (!c.found) return a;
  a.status = EtaStatus::Crossing;
  a.seconds = c.eta;
  a.low = c.low;
  a.high = c.high;
  a.probability = c.probability;
  return a;
}

Result<TrendAnswer> PredictService::trend(std::string_view key, std::span<const Point> points,
                                          const PredictOptions& options) {
  auto prepared = prepare(key, points, options.horizon, options);
  if (!prepared.ok()) return prepared.error();
  SeriesState& s = **prepared;
  TrendAnswer a;
  if (!s.fitted) return a;
  a.enoughData = true;
  a.asOf = s.window.points().back().t;
  a.slope = s.models.slope(a.asOf);
  a.pValue = s.evidence.mk.pTwoSided;
  a.significant = a.pValue < s.options.alpha;
  a.model = s.models.leader();
  a.shape = shapeName(s.evidence.testedAs);
  return a;
}

Result<ForecastAnswer> PredictService::forecast(std::string_view key, std::span<const Point> points, Seconds horizon,
                                                const PredictOptions& options) {
  auto prepared = prepare(key, points, horizon, options);
  if (!prepared.ok()) return prepared.error();
  SeriesState& s = **prepared;
  ForecastAnswer a;
  if (!s.fitted) return a;
  a.enoughData = true;
  a.at = s.window.points().back().t + horizon;
  double z = normalQuantile(0.5 + s.options.level / 2);
  double half = z * s.models.observationSd(a.at);
  a.value = s.models.mean(a.at);
  a.low = a.value - half;
  a.high = a.value + half;
  a.model = s.models.leader();
  // Values near DBL_MAX or a horizon of 1e300 overflow the band.
  if (!std::isfinite(a.value) || !std::isfinite(a.low) || !std::isfinite(a.high))
    return makeError("predict: the forecast overflows (values or horizon too large for a finite answer)");
  return a;
}

}  // namespace trimtab
