// SPDX-License-Identifier: Apache-2.0
#include <utility>  // Boost 1.74 asio misses it in C++20 mode

#include "controller/live_loop.h"

#include <spdlog/spdlog.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <ostream>
#include <sstream>
#include <thread>

#include "controller/controller.h"
#include "controller/http_server.h"
#include "controller/own_metrics.h"

namespace trimtab {

namespace asio = boost::asio;

namespace {

constexpr const char* kVersion = "0.1.0";

// Live TaskRunner: work on the pool, completion back on the loop's io_context.
class AsioTaskRunner final : public TaskRunner {
 public:
  AsioTaskRunner(asio::thread_pool& pool, asio::io_context& loop) : pool_(pool), loop_(loop) {}
  void submit(std::function<void()> work, std::function<void()> done) override {
    asio::post(pool_, [this, work = std::move(work), done = std::move(done)]() mutable {
      try {
        work();
      } catch (const std::exception& e) {
        // Sources and actuators promise not to throw; if one does, the
        // completion still runs so the controller does not wait forever.
        spdlog::error("worker task threw: {}", e.what());
      }
      asio::post(loop_, std::move(done));
    });
  }

 private:
  asio::thread_pool& pool_;
  asio::io_context& loop_;
};

std::chrono::steady_clock::duration toDuration(Seconds s) {
  return std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(s));
}

void printSummary(const Controller& controller, const std::map<std::string, double>& startValues,
                  const std::map<std::string, int>& changes, const std::map<std::string, double>& restored,
                  std::ostream& out) {
  const auto& st = controller.stats();
  out << "\n== trimtab run summary ==\n";
  out << "ticks " << st.ticks << ", scrapes ok " << st.scrapesOk << " / failed " << st.scrapesFailed
      << ", policy ticks " << st.policyTicks << " (errors " << st.policyErrors << ")\n";
  out << "decisions:";
  if (st.decisionsByVerdict.empty()) out << " none";
  for (const auto& [verdict, n] : st.decisionsByVerdict) out << " " << verdict << "=" << n;
  out << "\nactuations ok " << st.actuationsOk << ", failed " << st.actuationsFailed << "\n";
  // What the policies asked for and did not find once the sources had
  // answered (a misspelt name does nothing else); not a family read for the
  // first time, which the next scrape brings.
  for (const auto& [key, tally] : st.missingAfterSourcesAnswered) {
    if (tally.ticks < kWarnMissingAfterTicks) continue;
    out << "policy " << key.first << ": "
        << (tally.knob ? "ctx.knob('" + key.second + "') found no such knob" : tally.read + " found no data")
        << " at " << tally.ticks << " ticks\n";
  }
  for (const auto& [name, state] : controller.governor().knobs()) {
    auto s = startValues.find(name);
    auto c = changes.find(name);
    out << "knob " << name << ": " << (s == startValues.end() ? state.current : s->second) << " -> "
        << state.current << " (" << (c == changes.end() ? 0 : c->second) << " changes, bounds ["
        << state.spec.min << ", " << state.spec.max << "])";
    if (auto r = restored.find(name); r != restored.end()) out << ", restored to " << r->second << " on exit";
    out << "\n";
  }
  out.flush();
}

// The file's bytes, "" when it cannot be read (a config edit compares unequal either way).
std::string readWhole(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

int runLive(CompiledConfig compiled, std::shared_ptr<SourceIntervals> intervals,
            const LiveOptions& options, std::ostream& out) {
  const Config config = compiled.config;  // the controller takes the original
  asio::io_context loop;
  asio::thread_pool workers(kWorkerThreads);
  AsioTaskRunner runner(workers, loop);
  SystemClock clock;
  OwnMetrics metrics(kVersion);
  Controller controller(std::move(compiled), intervals, clock, runner, &metrics);

  std::map<std::string, int> changes;
  std::map<std::string, double> restored;  // knob -> baseline restored on exit
  if (options.printDecisions || options.printSummary) {
    controller.setListener([&](const JournalRecord& rec) {
      if (rec.kind == "outcome" && rec.ok.value_or(false)) {
        ++changes[rec.decision.knob];
        if (rec.decision.policy == "shutdown") restored[rec.decision.knob] = rec.decision.decided;
      }
      bool quiet = rec.kind == "decision" && rec.decision.verdict == Verdict::Unchanged;
      if (options.printDecisions && !quiet) out << formatJournalRecord(rec) << "\n" << std::flush;
    });
  }

  // Health is read from the HTTP thread; the loop publishes it atomically.
  std::atomic<double> lastTickSteady{0};
  std::atomic<bool> ready{false};
  auto steadyNow = [] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  };

  asio::io_context httpIo;
  std::unique_ptr<HttpServer> server;
  std::thread httpThread;
  if (config.server.enabled) {
    server = std::make_unique<HttpServer>(httpIo, config.server.listen);
    server->route("/metrics", [&] {
      metrics.syncHttpConnectionsClosed(server->evictedConnections(), server->rejectedConnections());
      return HttpReply{200, kPrometheusTextContentType, metrics.serialize()};
    });
    server->route("/healthz", [&] {
      bool alive = steadyNow() - lastTickSteady.load() < kHealthyTickFactor * config.tick + 1;
      return alive ? HttpReply{200, "text/plain; charset=utf-8", "ok\n"}
                   : HttpReply{503, "text/plain; charset=utf-8", "tick loop stalled\n"};
    });
    server->route("/readyz", [&] {
      return ready.load() ? HttpReply{200, "text/plain; charset=utf-8", "ready\n"}
                          : HttpReply{503, "text/plain; charset=utf-8", "waiting for a first scrape of every source\n"};
    });
    Status listening = server->start();
    if (!listening.ok()) {
      spdlog::error("{}", listening.error().message);
      workers.join();
      return 1;
    }
    spdlog::info("serving /metrics, /healthz, /readyz on {}:{}", parseListenAddress(config.server.listen)->host,
                 server->port());
    httpThread = std::thread([&] {
      auto guard = asio::make_work_guard(httpIo);
      httpIo.run();
    });
  }
  auto stopServer = [&] {
    if (!server) return;
    server->stop();
    httpIo.stop();
    httpThread.join();
    server.reset();
  };

  // After the listen address is bound: a second trimtab on the same port
  // stops before it touches the journal.
  Status started = controller.start();
  if (!started.ok()) {
    spdlog::error("{}", started.error().message);
    stopServer();
    workers.join();
    return 1;
  }
  std::map<std::string, double> startValues;
  for (const auto& [name, state] : controller.governor().knobs()) startValues[name] = state.current;

  // What the config file held at start: a SIGHUP after an edit says that
  // the edit is not applied.
  const std::string configText = config.file.empty() ? std::string() : readWhole(config.file);
  bool stopping = false;
  asio::steady_timer tickTimer(loop);
  asio::signal_set signals(loop, SIGINT, SIGTERM, SIGHUP);
  Seconds lastWatch = steadyNow();
  auto begin = std::chrono::steady_clock::now();
  auto deadline = begin + toDuration(options.duration);

  std::function<void()> scheduleTick;
  std::function<void()> waitSignal;
  auto stop = [&](const char* why) {
    if (stopping) return;
    stopping = true;
    spdlog::info("stopping ({})", why);
    tickTimer.cancel();
  };
  scheduleTick = [&] {
    tickTimer.expires_at(tickTimer.expiry() + toDuration(config.tick));
    // After a stall (a slow tick, a suspended process) restart the cadence
    // from now instead of running a burst of late ticks.
    if (tickTimer.expiry() < std::chrono::steady_clock::now()) tickTimer.expires_after(toDuration(config.tick));
    tickTimer.async_wait([&](const boost::system::error_code& ec) {
      if (ec || stopping) return;
      try {
        controller.tick();
      } catch (const std::exception& e) {
        spdlog::error("tick failed: {}", e.what());  // never expected; keep the loop alive
      }
      lastTickSteady.store(steadyNow());
      ready.store(controller.ready());
      if (config.watchPolicies && steadyNow() - lastWatch >= kPolicyWatchInterval) {
        lastWatch = steadyNow();
        controller.reloadPolicies(false);
      }
      if (options.duration > 0 && std::chrono::steady_clock::now() >= deadline) return stop("duration reached");
      scheduleTick();
    });
  };
  waitSignal = [&] {
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      if (signo == SIGHUP) {
        spdlog::info("SIGHUP: reloading every policy");
        if (!config.file.empty() && readWhole(config.file) != configText)
          spdlog::warn("{} changed since trimtab started: SIGHUP reloads the policies only, restart to apply "
                       "the config",
                       config.file);
        controller.reloadPolicies(true);
        waitSignal();
        return;
      }
      stop(signo == SIGINT ? "SIGINT" : "SIGTERM");
    });
  };

  tickTimer.expires_after(std::chrono::steady_clock::duration::zero());
  controller.tick();
  lastTickSteady.store(steadyNow());
  scheduleTick();
  waitSignal();
  while (!stopping) loop.run_one();

  // Shutdown: restore baselines, then drain in-flight scrapes and actuations.
  controller.shutdown();
  auto graceEnd = std::chrono::steady_clock::now() + toDuration(kShutdownGrace);
  while (controller.inFlight() > 0 && std::chrono::steady_clock::now() < graceEnd) {
    loop.restart();
    loop.run_for(std::chrono::milliseconds(50));
  }
  if (controller.inFlight() > 0) {
    // An exec actuator may run for 600 s: waiting for it (joining the
    // workers) would outlast any service manager's stop timeout. The
    // journal says what was abandoned; the next start recovers the last
    // applied values and warns about an apply without an outcome.
    spdlog::error("{} scrapes/actuations still running after {} s; exiting without them", controller.inFlight(),
                  kShutdownGrace);
    for (const auto& knob : controller.abandonInFlight())
      spdlog::error("knob {}: not restored to its baseline (its apply was still running)", knob);
    if (options.onAbandon) options.onAbandon();
    stopServer();
    if (options.printSummary) printSummary(controller, startValues, changes, restored, out);
    out.flush();
    spdlog::default_logger()->flush();
    std::_Exit(1);
  }
  signals.cancel();
  workers.join();
  loop.restart();
  loop.poll();  // completions posted by the last workers
  stopServer();
  if (options.printSummary) printSummary(controller, startValues, changes, restored, out);
  const auto& stats = controller.stats();
  if (stats.restoresOk < stats.restoresDispatched) {
    spdlog::error("{} of {} knobs with restore_on_exit were not restored to their baseline (the journal has "
                  "each outcome)",
                  stats.restoresDispatched - stats.restoresOk, stats.restoresDispatched);
    return 1;
  }
  return 0;
}

}  // namespace trimtab
