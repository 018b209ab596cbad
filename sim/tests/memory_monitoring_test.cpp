// SPDX-License-Identifier: Apache-2.0
#include "sim/models/memory_model.h"
#include "sim/models/monitoring_model.h"

#include <doctest/doctest.h>

#include <cmath>
#include <memory>
#include <string>

#include "common/config_node.h"
#include "sim/models/model_stack.h"

using namespace trimtab;
using namespace trimtab::sim;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

// Steps a memory model alone at `rps` until the first OOM kill; returns its time.
// The value of sample `name` in a published batch (NaN when absent).
double sampleValue(const SampleBatch& b, std::string_view name) {
  for (std::size_t i = 0; i < b.size(); ++i)
    if (b.key(i) == name) return b.entry(i).value;
  return NAN;
}

double timeOfFirstOom(MemoryModel& m, SimWorld& w, double dt, double rps, double horizon) {
  REQUIRE(m.attach(w).ok());
  for (double t = 0; t < horizon; t += dt) {
    w.beginStep(t, dt);
    w.load.rps = rps;
    m.step(t, dt, w);
    if (!w.events.empty() && w.events.back().what == "oom_kill") return w.events.back().time;
  }
  return -1;
}

}  // namespace

TEST_CASE("a leak reaches the memory limit at the analytically expected time") {
  MemoryModel::Params p;
  p.baseline = 100 * kMiB;
  p.liveHeap = 200 * kMiB;
  p.allocPerRequest = 0;        // no sawtooth: resident = baseline + live + leak
  p.leakPerSecond = 1 * kMiB;
  p.limit = 1000 * kMiB;
  MemoryModel m(p);
  SimWorld w(1);
  const double expected = (p.limit - p.baseline - p.liveHeap) / p.leakPerSecond;  // 700 s
  const double dt = 1;
  const double t = timeOfFirstOom(m, w, dt, 0, 10000);
  CHECK(t >= expected);
  CHECK(t <= expected + dt);
  CHECK(m.oomKills() == 1);
  CHECK_FALSE(w.process.up);

  // A per-request leak at 4 KiB x 128 rps is 0.5 MiB/s: twice as long.
  p.leakPerSecond = 0;
  p.leakPerRequest = 4096;
  MemoryModel perRequest(p);
  SimWorld w2(1);
  const double t2 = timeOfFirstOom(perRequest, w2, dt, 128, 10000);
  CHECK(t2 >= 2 * expected);
  CHECK(t2 <= 2 * expected + dt);
}

TEST_CASE("under a GC sawtooth the leak kills at the peak of the sawtooth") {
  // Peaks at live * (1 + gc_percent/100) = (L0 + r t) * 2: the limit is met
  // when baseline + 2 (L0 + r t) = limit.
  MemoryModel::Params p;
  p.baseline = 100 * kMiB;
  p.liveHeap = 100 * kMiB;
  p.gcPercent = 100;
  p.allocPerRequest = 0;
  p.allocPerSecond = 400 * kMiB;  // a GC cycle well within each step
  p.leakPerSecond = 1 * kMiB;
  p.limit = 900 * kMiB;
  MemoryModel m(p);
  SimWorld w(1);
  const double expected = ((p.limit - p.baseline) / 2 - p.liveHeap) / p.leakPerSecond;  // 300 s
  const double t = timeOfFirstOom(m, w, 1, 0, 10000);
  CHECK(t >= expected);
  CHECK(t <= expected + 1);
  CHECK(m.collections() > 100);
}

TEST_CASE("GC sawtooth: collection count and heap bounds") {
  MemoryModel::Params p;
  p.liveHeap = 100 * kMiB;
  p.gcPercent = 50;           // collect at 150 MiB: 50 MiB of garbage per cycle
  p.allocPerSecond = 0;
  p.allocPerRequest = 1024;   // 10 MiB/s at 10240 rps: a cycle every 5 s
  p.limit = 1e12;
  MemoryModel m(p);
  SimWorld w(1);
  REQUIRE(m.attach(w).ok());
  double minHeap = 1e30, maxHeap = 0;
  for (int t = 0; t < 1000; ++t) {
    w.beginStep(t, 1);
    w.load.rps = 10240;
    m.step(t, 1, w);
    minHeap = std::min(minHeap, m.heapBytes());
    maxHeap = std::max(maxHeap, m.heapBytes());
  }
  CHECK(m.collections() == 200);
  CHECK(minHeap >= 100 * kMiB);
  CHECK(maxHeap < 150 * kMiB);
  CHECK(maxHeap >= 140 * kMiB);

  // A forced collection brings the heap down to the live set and pauses.
  w.beginStep(1000, 1);
  w.load.rps = 0;
  REQUIRE(m.setKnob("gc_collect", 1).ok());
  m.step(1000, 1, w);
  CHECK(m.heapBytes() == doctest::Approx(100 * kMiB));
  CHECK(w.process.pauseSeconds == doctest::Approx(p.gcPause + 100 * kMiB * p.markSecondsPerByte));
  CHECK(m.collections() == 201);
}

TEST_CASE("OOM kill: downtime, restart, leak gone") {
  MemoryModel::Params p;
  p.baseline = 0;
  p.liveHeap = 10 * kMiB;
  p.allocPerRequest = 0;
  p.leakPerSecond = 1 * kMiB;
  p.limit = 20 * kMiB;
  p.restartDowntime = 30;
  MemoryModel m(p);
  SimWorld w(1);
  REQUIRE(m.attach(w).ok());
  int downSteps = 0;
  for (int t = 0; t < 50; ++t) {
    w.beginStep(t, 1);
    m.step(t, 1, w);
    if (!w.process.up) ++downSteps;
  }
  CHECK(m.oomKills() == 1);
  CHECK(w.process.restarts == 1);
  CHECK(downSteps == 30);  // killed at the end of the step at t=10, back at 41
  CHECK(m.leakedBytes() < 20 * kMiB);
  REQUIRE(w.events.size() == 2);
  CHECK(w.events[0].what == "oom_kill");
  CHECK(w.events[1].what == "restart");
  CHECK(w.events[1].time - w.events[0].time == doctest::Approx(30));
}

TEST_CASE("planned restart: leak freed, no OOM kill, down for exactly the downtime") {
  MemoryModel::Params p;
  p.baseline = 0;
  p.liveHeap = 10 * kMiB;
  p.allocPerRequest = 0;
  p.leakPerSecond = 1 * kMiB;
  p.limit = 1000 * kMiB;
  p.restartDowntime = 30;
  p.plannedRestartDowntime = 5;
  MemoryModel m(p);
  SimWorld w(1);
  REQUIRE(m.attach(w).ok());
  const auto knobs = m.knobs();
  bool trigger = false;
  for (const auto& k : knobs) trigger |= k.name == "process_restart" && k.trigger;
  CHECK(trigger);

  int downSteps = 0;
  bool checkedRestart = false;
  for (int t = 0; t < 60; ++t) {
    if (t == 20) REQUIRE(m.setKnob("process_restart", 1).ok());
    if (t == 23) REQUIRE(m.setKnob("process_restart", 1).ok());  // while down: ignored
    w.beginStep(t, 1);
    const bool wasDown = !m.up();
    m.step(t, 1, w);
    if (t == 20) {
      CHECK(m.leakedBytes() == doctest::Approx(21 * kMiB));  // served the step, then stopped
      CHECK(m.residentBytes() > p.liveHeap);
    }
    if (!w.process.up) ++downSteps;
    if (wasDown && m.up()) {
      // The step it came back in: the leak is gone, the heap is the live set.
      CHECK(m.leakedBytes() == 0);
      CHECK(m.heapBytes() == p.liveHeap);
      checkedRestart = true;
    }
  }
  CHECK(checkedRestart);
  CHECK(m.oomKills() == 0);
  CHECK(m.plannedRestarts() == 1);
  CHECK(m.restarts() == 1);
  CHECK(w.process.restarts == 1);  // what the cache and the pool see
  CHECK(downSteps == 5);           // exactly planned_restart_downtime, not restart_downtime
  CHECK(m.leakedBytes() == doctest::Approx(34 * kMiB));  // leaking again since t=26
  REQUIRE(w.events.size() == 2);
  CHECK(w.events[0].what == "planned_restart");
  CHECK(w.events[0].time == 21);
  CHECK(w.events[1].what == "restart");
  CHECK(w.events[1].time - w.events[0].time == doctest::Approx(5));

  SampleBatch b;
  m.publish(b);
  CHECK(sampleValue(b, "process_planned_restarts_total") == 1);
  CHECK(sampleValue(b, "process_oom_kills_total") == 0);
  CHECK(sampleValue(b, "process_restarts_total") == 1);
  CHECK(sampleValue(b, "process_start_time_seconds") == 26);
}

TEST_CASE("planned restart in the full stack: errors while down, cold cache, pool reconnects") {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto root = ConfigNode::loadString(R"(
models:
  - model: load.constant
    rps: 100
  - model: keys.zipf
    keys: 10000
    exponent: 0.9
  - model: cache
    ttl: 1h
  - model: pool
    size: 20
  - model: memory
    limit: 2GiB
    leak_per_second: 1MiB
    planned_restart_downtime: 7s
  - model: app
)", "planned_restart.yaml", diagnostics);
  auto entries = root.childList("models");
  ModelStack s(3);
  Status st = s.addFromConfig(entries);
  INFO(diagnostics->format());
  REQUIRE_MESSAGE(st.ok(), (st.ok() ? "" : st.error().message));
  REQUIRE(s.attach().ok());
  for (int t = 0; t < 600; ++t) s.step(t, 1);
  const double warmHit = s.world().cache.hitRatio;
  const double rssBefore = s.world().process.rssBytes;
  REQUIRE(warmHit > 0.5);
  REQUIRE(s.world().db.open > 0);

  REQUIRE(s.setKnob("process_restart", 1).ok());
  int down = 0;
  double errorsWhileDown = 0, requestsWhileDown = 0, hitAfter = -1, openAfter = -1;
  for (int t = 600; t < 700; ++t) {
    s.step(t, 1);
    const auto& w = s.world();
    if (!w.process.up) {
      ++down;
      errorsWhileDown += w.app.errors;
      requestsWhileDown += w.app.requests;
      if (down > 1) CHECK(w.db.open == 0);  // the pool sees the stop one step later
    } else if (down > 0 && hitAfter < 0 && t > 600 + down + 1) {
      hitAfter = w.cache.hitRatio;
      openAfter = w.db.open;
      CHECK(w.process.rssBytes < rssBefore - 500 * kMiB);  // the leak (~600 MiB) is gone
    }
  }
  CHECK(down == 7);
  CHECK(errorsWhileDown == doctest::Approx(requestsWhileDown));
  CHECK(requestsWhileDown == doctest::Approx(700));
  CHECK(hitAfter < warmHit * 0.5);  // the cache came back cold
  CHECK(openAfter > 0);             // and the pool reconnected
  bool killed = false, planned = false;
  for (const auto& e : s.world().events) {
    killed |= e.what == "oom_kill";
    planned |= e.what == "planned_restart";
  }
  CHECK_FALSE(killed);
  CHECK(planned);
}

TEST_CASE("memory counts connections and the in-process cache") {
  MemoryModel::Params p;
  p.baseline = 10;
  p.liveHeap = 100;
  p.allocPerRequest = 0;
  p.perConnection = 1000;
  MemoryModel m(p);
  SimWorld w(1);
  REQUIRE(m.attach(w).ok());
  w.beginStep(0, 1);
  w.db.open = 3;
  w.cache.bytes = 5000;
  m.step(0, 1, w);
  CHECK(m.residentBytes() == 10 + 100 + 3000 + 5000);
  w.cache.inProcess = false;
  m.step(1, 1, w);
  CHECK(m.residentBytes() == 10 + 100 + 3000);
}

TEST_CASE("monitoring: scrapes at the interval, overhead grows as it shrinks") {
  MonitoringModel::Params p;
  p.interval = 10;
  p.scrapeCpu = 0.02;
  MonitoringModel m(p);
  SimWorld w(1);
  int due = 0;
  for (int t = 0; t < 100; ++t) {
    w.beginStep(t, 1);
    m.step(t, 1, w);
    if (w.monitoring.scrapeDue) ++due;
  }
  CHECK(due == 11);  // 0, 10, ..., 100: a scrape at the end of a step is in it
  CHECK(m.scrapes() == 11);
  CHECK(m.overheadRatio() == doctest::Approx(0.002));
  REQUIRE(m.setKnob("scrape_interval_seconds", 2).ok());
  CHECK(m.overheadRatio() == doctest::Approx(0.01));
  due = 0;
  for (int t = 100; t < 120; ++t) {
    w.beginStep(t, 1);
    m.step(t, 1, w);
    if (w.monitoring.scrapeDue) ++due;
  }
  CHECK(due == 10);  // 102, 104, ..., 120: two seconds after the last one
  // Larger steps than the interval count every scrape; a down process is not scraped.
  m.step(120, 10, w);
  CHECK(m.scrapes() == 26);
  w.process.up = false;
  m.step(130, 1, w);
  CHECK_FALSE(w.monitoring.scrapeDue);
  CHECK(m.setKnob("scrape_interval_seconds", 0).ok());
  CHECK(*m.knobValue("scrape_interval_seconds") == MonitoringModel::kMinInterval);
}
