// SPDX-License-Identifier: Apache-2.0
// Cost of predictions (issue #3 targets): eta on a 3,600-point window,
// amortized per tick (<= 20 us), and a forecast of a 7-day 1-minute series
// (<= 2 ms). Results and the command line are in bench/RESULTS.md.
#include <benchmark/benchmark.h>

#include <cmath>
#include <numbers>
#include <random>
#include <vector>

#include "predict/predict_service.h"

namespace {

using trimtab::Point;
using trimtab::PredictOptions;
using trimtab::PredictService;

constexpr std::size_t kWindowPoints = 3600;
constexpr double kDay = 86400;

// Series shapes the tick benchmark runs on.
double shape(int kind, double t, std::mt19937& rng) {
  std::normal_distribution<double> noise(0, 5);
  switch (kind) {
    case 0:
      return 1000 + 0.01 * t + noise(rng);  // linear leak
    case 1:
      return 400 + 0.002 * t + 300 * std::fmod(t, 600) / 600 + noise(rng) / 5;  // GC sawtooth, leaking floor
    default:
      return 800 + noise(rng);  // plateau
  }
}

// One tick per iteration: a new sample arrives (1 s apart), the window
// slides, eta() is asked with the same series key. Model choice and full
// refits happen at their bounded rates inside, so the mean is the amortized
// per-tick cost.
void BM_EtaPerTick(benchmark::State& state) {
  const int kind = static_cast<int>(state.range(0));
  std::mt19937 rng(42);
  std::vector<Point> buf;
  double t = 0;
  for (; buf.size() < kWindowPoints; t += 1) buf.push_back({t, shape(kind, t, rng)});
  PredictService svc;
  PredictOptions o;
  o.window = kWindowPoints;
  o.horizon = 4 * 3600;
  double limit = kind == 2 ? 900 : 2000;
  // Warm up: the first call cleans the whole window and runs the first backtest.
  benchmark::DoNotOptimize(svc.eta("mem", buf, limit, o));
  for (auto _ : state) {
    buf.push_back({t, shape(kind, t, rng)});
    t += 1;
    if (buf.size() >= 4 * kWindowPoints) buf.erase(buf.begin(), buf.end() - kWindowPoints);
    std::span<const Point> window(buf.data() + buf.size() - kWindowPoints, kWindowPoints);
    auto a = svc.eta("mem", window, limit, o);
    benchmark::DoNotOptimize(a);
  }
  state.counters["fits"] = static_cast<double>(svc.stats().fits);
  state.counters["selections"] = static_cast<double>(svc.stats().selections);
}
BENCHMARK(BM_EtaPerTick)->Arg(0)->Arg(1)->Arg(2)->ArgName("shape")->Unit(benchmark::kMicrosecond);

// The same question without a key: clean, choose and fit from scratch.
void BM_EtaCold(benchmark::State& state) {
  std::mt19937 rng(42);
  std::vector<Point> buf;
  for (double t = 0; buf.size() < kWindowPoints; t += 1) buf.push_back({t, shape(0, t, rng)});
  PredictService svc;
  PredictOptions o;
  o.window = kWindowPoints;
  o.horizon = 4 * 3600;
  for (auto _ : state) benchmark::DoNotOptimize(svc.eta("", buf, 2000, o));
}
BENCHMARK(BM_EtaCold)->Unit(benchmark::kMicrosecond);

std::vector<Point> sevenDays() {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 15);
  std::vector<Point> pts;
  for (double t = 0; t < 7 * kDay; t += 60) {
    pts.push_back({t, 400 + 200 * std::sin(2 * std::numbers::pi * t / kDay) + noise(rng)});
  }
  return pts;
}

// A load forecast 4 h ahead from 7 days of 1-minute samples (10,080 points),
// from scratch each time: cleaning, season detection, backtest of the
// candidate models, fits.
void BM_Forecast7DaysCold(benchmark::State& state) {
  auto pts = sevenDays();
  PredictService svc;
  PredictOptions o;
  o.window = 7 * kDay;
  for (auto _ : state) benchmark::DoNotOptimize(svc.forecast("", pts, 4 * 3600, o));
  state.counters["points"] = static_cast<double>(pts.size());
}
BENCHMARK(BM_Forecast7DaysCold)->Unit(benchmark::kMillisecond);

// The same forecast asked again with a key and one new sample per call.
void BM_Forecast7DaysPerTick(benchmark::State& state) {
  auto pts = sevenDays();
  PredictService svc;
  PredictOptions o;
  o.window = 7 * kDay;
  benchmark::DoNotOptimize(svc.forecast("load", pts, 4 * 3600, o));
  std::mt19937 rng(8);
  std::normal_distribution<double> noise(0, 15);
  double t = pts.back().t;
  for (auto _ : state) {
    t += 60;
    pts.push_back({t, 400 + 200 * std::sin(2 * std::numbers::pi * t / kDay) + noise(rng)});
    benchmark::DoNotOptimize(svc.forecast("load", pts, 4 * 3600, o));
  }
}
BENCHMARK(BM_Forecast7DaysPerTick)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
