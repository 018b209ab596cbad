// SPDX-License-Identifier: Apache-2.0
// Cost of one controller tick with 5 policies over 10,000 series, I/O
// excluded: the source hands over a pre-built batch (as if scraped) and the
// actuator records only.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>

#include "controller/controller.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

constexpr int kFamilies = 100;
constexpr int kSeriesPerFamily = 100;

// Serves a 10,000-series exposition as a scrape would, honouring the filter
// (unread families are skipped). The batch is built once per filter and
// copied on each collection, so the figure is the controller's cost, not the
// cost of producing samples (that is the parser's benchmark).
class CannedSource final : public MetricSource {
 public:
  CollectResult collect(const FamilyFilter& filter) override {
    if (filter.size() != builtFor_) build(filter);
    CollectResult r;
    r.batch = batch_;
    r.skippedSamples = skipped_;
    return r;
  }

 private:
  void build(const FamilyFilter& filter) {
    batch_.clear();
    skipped_ = 0;
    std::string name, instance;
    for (int f = 0; f < kFamilies; ++f) {
      name = "family_" + std::to_string(f);
      if (!filter.wants(name)) {
        skipped_ += kSeriesPerFamily;
        continue;
      }
      for (int s = 0; s < kSeriesPerFamily; ++s) {
        instance = "i" + std::to_string(s);
        LabelView labels[2] = {{"instance", instance}, {"job", "bench"}};
        batch_.add(name, labels, 2, MetricType::Gauge, 1.0 + s);
      }
    }
    builtFor_ = filter.size();
  }
  SampleBatch batch_;
  std::size_t skipped_ = 0;
  std::size_t builtFor_ = static_cast<std::size_t>(-1);
};

class NullActuator final : public Actuator {
 public:
  ActuationOutcome apply(const ActuationRequest&) override { return {true, true, "", 1, 0}; }
};

void BM_TickFivePolicies(benchmark::State& state) {
  const bool everything = state.range(0) == 1;  // 1: policies read all 100 families
  fs::path dir = fs::temp_directory_path() / "trimtab-tick-bench";
  fs::create_directories(dir);
  CompiledConfig c;
  c.config.service = "bench";
  SourceSpec s{"app", "canned", 1, 1};
  c.sources.push_back(CompiledSource{s, std::make_unique<CannedSource>()});
  for (int p = 0; p < 5; ++p) {
    std::string file = (dir / ("p" + std::to_string(p) + ".lua")).string();
    std::ofstream(file) << "return { name = 'p" << p << "', interval = 1, tick = function(ctx)\n"
                        << "  local v = ctx.value('family_" << p << "', {instance = 'i1'})\n"
                        << "  local w = ctx.window('family_" << p << "', {instance = 'i2'}, '1m')\n"
                        << "  local r = ctx.rate('family_" << p + 5 << "', {instance = 'i3'}, '1m')\n"
                        << "  local k = ctx.knob('k" << p << "')\n"
                        << "  if v and k then ctx.propose('k" << p << "', (ctx.now % 10) + 1, 'bench') end\n"
                        << "end }\n";
    PolicySpec spec;
    spec.file = file;
    spec.order = p;
    c.config.policies.push_back(spec);
    KnobSpec k;
    k.name = "k" + std::to_string(p);
    k.min = 0;
    k.max = 100;
    k.baseline = 1;
    c.knobs.push_back(CompiledKnob{k, "null", std::make_unique<NullActuator>()});
  }
  auto intervals = std::make_shared<SourceIntervals>();
  intervals->add("app", 1);
  ManualClock clock(1000);
  InlineTaskRunner runner;
  Controller controller(std::move(c), intervals, clock, runner);
  if (!controller.start().ok()) {
    state.SkipWithError("controller did not start");
    return;
  }
  if (everything) {
    for (int f = 0; f < kFamilies; ++f) controller.store().retain("family_" + std::to_string(f), 0);
  }
  for (int i = 0; i < 70; ++i) {  // fill the 1-minute windows
    controller.tick();
    clock.advance(1);
  }
  for (auto _ : state) {
    controller.tick();
    clock.advance(1);
  }
  state.counters["series"] = static_cast<double>(controller.seriesStore().seriesCount());
  fs::remove_all(dir);
}
BENCHMARK(BM_TickFivePolicies)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace trimtab

BENCHMARK_MAIN();
