// SPDX-License-Identifier: Apache-2.0
#include "controller/own_metrics.h"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <unordered_map>
#include <utility>
#include <vector>

namespace trimtab {
namespace {

using prometheus::Counter;
using prometheus::Family;
using prometheus::Gauge;
using prometheus::Histogram;

// Bucket bounds in seconds. A tick and a policy evaluation are meant to take
// microseconds (target: a tick under 200 µs); scrapes and actuations are
// network round trips bounded by their timeouts.
const std::vector<double> kTickBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
                                          0.01,    0.025,  0.05,    0.1,    0.25,  0.5,   1};
const std::vector<double> kScrapeBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                            0.25,  0.5,    1,     2.5,  5,     10};
const std::vector<double> kActuatorBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,    2.5,   5,    10,  30};

// One labelled family with its children cached by label value.
template <class T>
class Labelled {
 public:
  Labelled(Family<T>& family, std::string label, std::vector<double> buckets = {})
      : family_(family), label_(std::move(label)), buckets_(std::move(buckets)) {}

  T& get(const std::string& value) {
    std::lock_guard lock(mu_);
    auto it = children_.find(value);
    if (it != children_.end()) return *it->second;
    T* child;
    if constexpr (std::is_same_v<T, Histogram>) {
      child = &family_.Add({{label_, value}}, buckets_);
    } else {
      child = &family_.Add({{label_, value}});
    }
    children_.emplace(value, child);
    return *child;
  }

 private:
  Family<T>& family_;
  std::string label_;
  std::vector<double> buckets_;
  std::mutex mu_;
  std::unordered_map<std::string, T*> children_;
};

// Two labels (knob + verdict/outcome), keyed by "a\0b".
class CounterPairs {
 public:
  CounterPairs(Family<Counter>& family, std::string first, std::string second)
      : family_(family), first_(std::move(first)), second_(std::move(second)) {}

  Counter& get(const std::string& a, const std::string& b) {
    std::string key = a;
    key.push_back('\0');
    key += b;
    std::lock_guard lock(mu_);
    auto it = children_.find(key);
    if (it != children_.end()) return *it->second;
    Counter* child = &family_.Add({{first_, a}, {second_, b}});
    children_.emplace(std::move(key), child);
    return *child;
  }

 private:
  Family<Counter>& family_;
  std::string first_, second_;
  std::mutex mu_;
  std::unordered_map<std::string, Counter*> children_;
};

Family<Counter>& counter(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildCounter().Name(name).Help(help).Register(r);
}
Family<Gauge>& gauge(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r);
}
Family<Histogram>& histogram(prometheus::Registry& r, const char* name, const char* help) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r);
}

}  // namespace

struct OwnMetrics::Impl {
  prometheus::Registry registry;

  Histogram& tick = histogram(registry, "trimtab_tick_duration_seconds",
                              "Time spent in one controller tick, excluding actuator I/O.")
                        .Add({}, kTickBuckets);
  Labelled<Histogram> policyDuration{
      histogram(registry, "trimtab_policy_duration_seconds", "Time spent in one policy's tick()."),
      "policy", kTickBuckets};
  Labelled<Counter> policyErrors{
      counter(registry, "trimtab_policy_errors_total",
              "Policy ticks that failed: Lua error, CPU budget or memory cap exceeded."),
      "policy"};
  Gauge& quarantined =
      gauge(registry, "trimtab_policy_quarantined", "Number of policies currently quarantined.").Add({});
  Counter& reloadFailures =
      counter(registry, "trimtab_policy_reload_failures_total",
              "Policy reloads rejected because the new file failed to compile or check.")
          .Add({});

  CounterPairs decisions{counter(registry, "trimtab_decisions_total",
                                 "Governor decisions by knob and verdict."),
                         "knob", "verdict"};
  CounterPairs actuations{counter(registry, "trimtab_actuations_total",
                                  "Completed actuations by knob and outcome."),
                          "knob", "outcome"};
  Labelled<Counter> actuatorErrors{
      counter(registry, "trimtab_actuator_errors_total", "Actuations that failed."), "knob"};
  Labelled<Histogram> actuatorLatency{
      histogram(registry, "trimtab_actuator_latency_seconds",
                "Time from the start of an actuation to its outcome, retries included."),
      "knob", kActuatorBuckets};
  Labelled<Gauge> knobValue{
      gauge(registry, "trimtab_knob_value", "Current value of each knob as trimtab knows it."),
      "knob"};

  Labelled<Histogram> scrapeDuration{
      histogram(registry, "trimtab_scrape_duration_seconds", "Time taken by one collection of a source."),
      "source", kScrapeBuckets};
  Labelled<Counter> scrapeErrors{
      counter(registry, "trimtab_scrape_errors_total", "Collections of a source that failed."),
      "source"};
  Labelled<Gauge> scrapeSamples{
      gauge(registry, "trimtab_scrape_samples", "Samples stored from the last collection of a source."),
      "source"};
  Labelled<Counter> rejectedLines{
      counter(registry, "trimtab_scrape_rejected_lines_total",
              "Exposition lines rejected as malformed or past a limit, and repeats of a series in one scrape."),
      "source"};
  Labelled<Gauge> sourceUp{
      gauge(registry, "trimtab_source_up", "1 if the last collection of a source succeeded, else 0."),
      "source"};
  Gauge& series = gauge(registry, "trimtab_series", "Series held in the store.").Add({});
  Counter& seriesDropped =
      counter(registry, "trimtab_series_dropped_total",
              "New series refused by the store's cardinality cap.")
          .Add({});
  std::mutex droppedMu;
  std::uint64_t droppedSeen = 0;
  Labelled<Counter> httpClosed{
      counter(registry, "trimtab_http_connections_closed_total",
              "Connections the own HTTP server closed at its connection cap: evicted (waited longest for a "
              "request) or refused (every one mid-answer)."),
      "reason"};
  std::mutex httpMu;
  std::uint64_t evictedSeen = 0, refusedSeen = 0;
};

OwnMetrics::OwnMetrics(const std::string& version) : impl_(std::make_unique<Impl>()) {
  gauge(impl_->registry, "trimtab_build_info", "Always 1; the label carries trimtab's version.")
      .Add({{"version", version}})
      .Set(1);
}

OwnMetrics::~OwnMetrics() = default;

void OwnMetrics::observeTick(Seconds duration) { impl_->tick.Observe(duration); }
void OwnMetrics::observePolicy(const std::string& policy, Seconds duration) {
  impl_->policyDuration.get(policy).Observe(duration);
}
void OwnMetrics::countPolicyError(const std::string& policy) { impl_->policyErrors.get(policy).Increment(); }
void OwnMetrics::setQuarantinedPolicies(std::size_t count) {
  impl_->quarantined.Set(static_cast<double>(count));
}
void OwnMetrics::countPolicyReloadFailure() { impl_->reloadFailures.Increment(); }

void OwnMetrics::countDecision(const std::string& knob, const std::string& verdict) {
  impl_->decisions.get(knob, verdict).Increment();
}
void OwnMetrics::countActuation(const std::string& knob, const std::string& outcome) {
  impl_->actuations.get(knob, outcome).Increment();
}
void OwnMetrics::countActuatorError(const std::string& knob) { impl_->actuatorErrors.get(knob).Increment(); }
void OwnMetrics::observeActuatorLatency(const std::string& knob, Seconds latency) {
  impl_->actuatorLatency.get(knob).Observe(latency);
}
void OwnMetrics::observeActuation(const std::string& knob, bool ok, bool effective, Seconds latency) {
  countActuation(knob, !ok ? "failed" : effective ? "ok" : "not_effective");
  if (!ok) countActuatorError(knob);
  observeActuatorLatency(knob, latency);
}
void OwnMetrics::setKnobValue(const std::string& knob, double value) { impl_->knobValue.get(knob).Set(value); }

void OwnMetrics::observeScrape(const std::string& source, Seconds duration) {
  impl_->scrapeDuration.get(source).Observe(duration);
}
void OwnMetrics::countScrapeError(const std::string& source) { impl_->scrapeErrors.get(source).Increment(); }
void OwnMetrics::setScrapeSamples(const std::string& source, double samples) {
  impl_->scrapeSamples.get(source).Set(samples);
}
void OwnMetrics::countScrapeRejectedLines(const std::string& source, std::uint64_t lines) {
  impl_->rejectedLines.get(source).Increment(static_cast<double>(lines));
}
void OwnMetrics::setSourceUp(const std::string& source, bool up) {
  impl_->sourceUp.get(source).Set(up ? 1 : 0);
}
void OwnMetrics::setSeries(std::size_t count) { impl_->series.Set(static_cast<double>(count)); }
void OwnMetrics::syncSeriesDropped(std::uint64_t cumulative) {
  std::lock_guard lock(impl_->droppedMu);
  if (cumulative <= impl_->droppedSeen) return;
  impl_->seriesDropped.Increment(static_cast<double>(cumulative - impl_->droppedSeen));
  impl_->droppedSeen = cumulative;
}

void OwnMetrics::syncHttpConnectionsClosed(std::uint64_t evicted, std::uint64_t refused) {
  std::lock_guard lock(impl_->httpMu);
  auto sync = [&](const char* reason, std::uint64_t cumulative, std::uint64_t& seen) {
    Counter& c = impl_->httpClosed.get(reason);  // present at 0 from the first sync
    if (cumulative > seen) c.Increment(static_cast<double>(cumulative - seen));
    seen = std::max(seen, cumulative);
  };
  sync("evicted", evicted, impl_->evictedSeen);
  sync("refused", refused, impl_->refusedSeen);
}

std::string OwnMetrics::serialize() const {
  return prometheus::TextSerializer().Serialize(impl_->registry.Collect());
}

prometheus::Registry& OwnMetrics::registry() { return impl_->registry; }

}  // namespace trimtab
