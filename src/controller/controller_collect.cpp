// SPDX-License-Identifier: Apache-2.0
// The Controller's sources: when each is due, collecting it off the loop
// thread, and taking in what it brought (store, up/down, warnings).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <string>
#include <vector>

#include "controller/controller.h"
#include "controller/controller_slots.h"
#include "controller/own_metrics.h"

namespace trimtab {

using controller_detail::advanceDue;
using controller_detail::steadySeconds;

namespace {

// How often a source's unchanged scrape warnings are logged again.
constexpr Seconds kRepeatedWarningInterval = 300;

}  // namespace

// A shorter interval set since the last collection (the self actuator, the
// simulator's monitoring knob) counts from that collection: a policy that
// speeds scraping up near a limit must not wait out the old, longer interval.
Seconds Controller::dueWith(const SourceSlot& slot, Seconds interval) {
  return slot.lastStart >= 0 ? std::min(slot.nextDue, slot.lastStart + interval) : slot.nextDue;
}

Seconds Controller::intervalOf(const SourceSlot& slot) const {
  return intervals_->sourceInterval(slot.spec.name).value_or(slot.spec.interval);
}

void Controller::collectDueSources(Seconds now) {
  for (auto& slotPtr : sources_) {
    SourceSlot& slot = *slotPtr;
    const Seconds interval = intervalOf(slot);
    slot.nextDue = dueWith(slot, interval);
    if (slot.inFlight || now + Controller::kDueSlack < slot.nextDue) continue;
    slot.lastStart = now;
    slot.nextDue = advanceDue(slot.nextDue, now, interval);
    slot.inFlight = true;
    ++inFlight_;
    // The read filter only changes when a policy reads a new family: rebuilt
    // then, shared (immutable) by every collection meanwhile.
    if (!readFilter_ || readFilterGeneration_ != store_.readFilterGeneration()) {
      readFilter_ = std::make_shared<const FamilyFilter>(store_.readFilter());
      readFilterGeneration_ = store_.readFilterGeneration();
    }
    slot.filter = readFilter_;
    slot.result = std::make_shared<CollectResult>();
    MetricSource* source = slot.source.get();
    auto result = slot.result;
    auto filter = slot.filter;
    SourceSlot* raw = &slot;
    runner_.submit(
        [source, result, filter] {
          Seconds t0 = steadySeconds();
          *result = source->collect(*filter);
          result->duration = steadySeconds() - t0;
        },
        [this, raw, result] {
          --inFlight_;
          raw->inFlight = false;
          onCollected(*raw, *result, clock_.now());
          stopWhenSettled();
        });
  }
}

void Controller::logScrapeWarnings(SourceSlot& slot, const std::vector<std::string>& warnings, Seconds now) {
  std::string all;
  for (const auto& w : warnings) all += w + "\n";
  if (all == slot.loggedWarnings && now - slot.loggedAt < kRepeatedWarningInterval) {
    slot.repeats += !all.empty();
    return;
  }
  if (slot.repeats > 0)
    spdlog::warn("source {}: the warnings above repeated at {} more scrapes", slot.spec.name, slot.repeats);
  for (const auto& w : warnings) spdlog::warn("source {}: {}", slot.spec.name, w);
  slot.loggedWarnings = std::move(all);
  slot.loggedAt = now;
  slot.repeats = 0;
}

void Controller::onCollected(SourceSlot& slot, CollectResult& result, Seconds now) {
  // A scrape that ends after shutdown() (cut short by the stop itself) says
  // nothing about the source: no up/down event after the journal's "stop".
  if (stopping_) return;
  std::size_t rejected = 0;  // lines or samples of this scrape that were not taken
  std::size_t stored = 0;
  if (result.status.ok()) {
    const SeriesStore::IngestProblems problems = store_.ingest(slot.storeId, result.batch, now);
    const std::size_t dropped = problems.duplicates + problems.future + problems.outOfOrder;
    rejected = result.warnings.size() + dropped;
    stored = result.batch.size() - dropped;
    auto samples = [](std::size_t n) { return std::to_string(n) + (n == 1 ? " sample" : " samples"); };
    if (problems.duplicates > 0) {
      result.warnings.push_back(samples(problems.duplicates) + (problems.duplicates == 1 ? " repeats" : " repeat") +
                                " a series already in this scrape (first: " + problems.firstDuplicate +
                                "); the first sample of each series is kept");
    }
    if (problems.future > 0) {
      result.warnings.push_back(samples(problems.future) + " timestamped more than " +
                                std::to_string(static_cast<int>(kMaxFutureSkew)) +
                                " s ahead of trimtab's clock dropped (first: " + problems.firstFuture +
                                "); is the exporter's clock right, its timestamps in milliseconds?");
    }
    if (problems.outOfOrder > 0) {
      result.warnings.push_back(samples(problems.outOfOrder) +
                                " older than their series' newest dropped: the series goes stale if this lasts");
    }
    ++stats_.scrapesOk;
    slot.everOk = true;
    if (!slot.up) {
      spdlog::info("source {} is back", slot.spec.name);
      journalEvent("source_up", slot.spec.name);
      markForResync(slot.spec.name);
    }
    slot.up = true;
    logScrapeWarnings(slot, result.warnings, now);
  } else {
    store_.markFailedScrape(slot.storeId, now);
    ++stats_.scrapesFailed;
    if (slot.up) {
      spdlog::warn("source {} is down: {}", slot.spec.name, result.status.error().message);
      journalEvent("source_down", slot.spec.name + ": " + result.status.error().message);
    }
    slot.up = false;
  }
  if (metrics_) {
    metrics_->observeScrape(slot.spec.name, result.duration);
    metrics_->setSourceUp(slot.spec.name, result.status.ok());
    if (result.status.ok()) {
      metrics_->setScrapeSamples(slot.spec.name, static_cast<double>(stored));
      metrics_->countScrapeRejectedLines(slot.spec.name, rejected);
    } else {
      metrics_->countScrapeError(slot.spec.name);
    }
  }
}

}  // namespace trimtab
