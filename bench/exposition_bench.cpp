// SPDX-License-Identifier: Apache-2.0
// Exposition parser throughput (Google Benchmark), and an anchors-compatible
// mode that times one file the way ../shared/bench-anchors/exposition/ times
// its peers:
//
//   bench_exposition                               Google Benchmark suite
//   bench_exposition --anchor FILE [--mode all|full|batch|filtered] [--min S] [--reps N]
//                                                  one `parser=trimtab... ` line per mode:
//                                                  trimtab (full parse, visitor), trimtab-batch
//                                                  (parseInto), trimtab-filtered (3 names wanted)
//   bench_exposition --anchor FILE --mode M --count N
//                                                  exactly N parses, no output: for
//                                                  `perf stat -e cycles:u` on a shared machine
//   bench_exposition --write-synth FILE            the synthetic input, byte for byte
//                                                  what gen_synth.py writes
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "sources/exposition_parser.h"

using namespace trimtab;

namespace {

// Python's random module (MT19937 seeded by init_by_array, 53-bit random()),
// so the synthetic exposition equals gen_synth.py's output.
class PythonRandom {
 public:
  explicit PythonRandom(std::uint32_t seed) {
    initGenrand(19650218u);
    std::size_t i = 1;
    for (std::size_t k = kN; k > 0; --k) {  // init_by_array with key = {seed}
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1664525u)) + seed;
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    for (std::size_t k = kN - 1; k > 0; --k) {
      mt_[i] = (mt_[i] ^ ((mt_[i - 1] ^ (mt_[i - 1] >> 30)) * 1566083941u)) - static_cast<std::uint32_t>(i);
      if (++i >= kN) {
        mt_[0] = mt_[kN - 1];
        i = 1;
      }
    }
    mt_[0] = 0x80000000u;
  }
  double random() {
    std::uint32_t a = next() >> 5, b = next() >> 6;
    return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
  }

 private:
  static constexpr std::size_t kN = 624, kM = 397;
  void initGenrand(std::uint32_t s) {
    mt_[0] = s;
    for (std::size_t i = 1; i < kN; ++i) {
      mt_[i] = 1812433253u * (mt_[i - 1] ^ (mt_[i - 1] >> 30)) + static_cast<std::uint32_t>(i);
    }
    index_ = kN;
  }
  std::uint32_t next() {
    if (index_ >= kN) {
      for (std::size_t k = 0; k < kN; ++k) {
        std::uint32_t y = (mt_[k] & 0x80000000u) | (mt_[(k + 1) % kN] & 0x7fffffffu);
        mt_[k] = mt_[(k + kM) % kN] ^ (y >> 1) ^ ((y & 1u) ? 0x9908b0dfu : 0u);
      }
      index_ = 0;
    }
    std::uint32_t y = mt_[index_++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
  }
  std::uint32_t mt_[kN];
  std::size_t index_ = kN;
};

// 100 families x 100 series x 4 labels, ~1 MB (gen_synth.py's shape and bytes).
std::string syntheticExposition() {
  PythonRandom rng(7);
  std::string out;
  out.reserve(1u << 20);
  char line[256];
  for (int m = 0; m < 100; ++m) {
    std::snprintf(line, sizeof line,
                  "# HELP metric_%d_total Help text for metric %d.\n# TYPE metric_%d_total counter\n", m, m, m);
    out += line;
    for (int i = 0; i < 100; ++i) {
      std::snprintf(line, sizeof line,
                    "metric_%d_total{service=\"checkout\",instance=\"10.0.%d.%d:8080\",method=\"GET\","
                    "code=\"%d\"} %.3f\n",
                    m, m, i, 200 + i % 5, rng.random() * 1e9);
      out += line;
    }
  }
  return out;
}

const std::string& synth() {
  static const std::string body = syntheticExposition();
  return body;
}

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

const std::string& nodeExporter() {
  static const std::string body =
      readFile(std::string(TRIMTAB_SOURCE_DIR) + "/tests/fixtures/node_exporter.prom");
  return body;
}

// What a caller minimally does with each sample: read its value and labels.
class SumVisitor final : public ExpositionVisitor {
 public:
  void onSample(const ExpositionSample& s) override { sum += s.value + static_cast<double>(s.labelCount); }
  double sum = 0;
};

void report(benchmark::State& state, const std::string& body, const ExpositionStats& stats) {
  if (stats.rejected()) state.SkipWithError(stats.errors.front().message.c_str());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * body.size()));
  const auto samples = static_cast<double>(state.iterations() * (stats.samplesParsed + stats.samplesSkipped));
  state.counters["samples_per_s"] = benchmark::Counter(samples, benchmark::Counter::kIsRate);
  state.counters["parsed"] = static_cast<double>(stats.samplesParsed);
}

void fullParse(benchmark::State& state, const std::string& body) {
  ExpositionParser parser;
  SumVisitor visitor;
  const FamilyFilter all = FamilyFilter::everything();
  ExpositionStats stats;
  for (auto _ : state) {
    stats = parser.parse(body, ExpositionFormat::Prometheus004, all, visitor);
    benchmark::DoNotOptimize(visitor.sum);
  }
  report(state, body, stats);
}

void BM_FullParse_Synth(benchmark::State& state) { fullParse(state, synth()); }
void BM_FullParse_NodeExporter(benchmark::State& state) { fullParse(state, nodeExporter()); }

void BM_FilteredParse_Synth(benchmark::State& state) {
  ExpositionParser parser;
  SumVisitor visitor;
  FamilyFilter three;
  for (const char* name : {"metric_7_total", "metric_42_total", "metric_99_total"}) three.add(name);
  ExpositionStats stats;
  for (auto _ : state) {
    stats = parser.parse(synth(), ExpositionFormat::Prometheus004, three, visitor);
    benchmark::DoNotOptimize(visitor.sum);
  }
  report(state, synth(), stats);
}

void BM_ParseIntoBatch_Synth(benchmark::State& state) {
  ExpositionParser parser;
  SampleBatch batch;
  const FamilyFilter all = FamilyFilter::everything();
  ExpositionStats stats;
  for (auto _ : state) {
    batch.clear();
    stats = parser.parseInto(synth(), ExpositionFormat::Prometheus004, all, batch);
    benchmark::DoNotOptimize(batch.size());
  }
  report(state, synth(), stats);
}

BENCHMARK(BM_FullParse_Synth);
BENCHMARK(BM_FilteredParse_Synth);
BENCHMARK(BM_ParseIntoBatch_Synth);
BENCHMARK(BM_FullParse_NodeExporter);

// ---- anchors-compatible mode ----------------------------------------------------

struct AnchorOptions {
  std::string mode = "all";
  double minSeconds = 2.0;
  int reps = 3;
  double warmSeconds = 0.5;
  long count = 0;  // > 0: run exactly this many parses, untimed
};

// Best seconds per parse over `reps` repetitions of at least minSeconds each.
template <class Parse>
double timeBest(const AnchorOptions& o, Parse&& parse, std::vector<double>& perRep) {
  if (o.count > 0) {
    for (long i = 0; i < o.count; ++i) parse();
    return 0;
  }
  using Clock = std::chrono::steady_clock;
  auto since = [](Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); };
  auto t0 = Clock::now();
  while (since(t0) < o.warmSeconds) parse();
  double best = 1e18;
  for (int r = 0; r < o.reps; ++r) {
    long n = 0;
    double elapsed = 0;
    auto start = Clock::now();
    do {
      parse();
      ++n;
      elapsed = since(start);
    } while (elapsed < o.minSeconds);
    perRep.push_back(elapsed / static_cast<double>(n));
    best = std::min(best, elapsed / static_cast<double>(n));
  }
  return best;
}

void printAnchor(const char* parserName, const std::string& path, const std::string& body, std::size_t samples,
                 double best, const std::vector<double>& perRep, double sink) {
  if (best <= 0) return;  // --count: untimed
  const double mbps = static_cast<double>(body.size()) / best / 1e6;
  const double perSecond = static_cast<double>(samples) / best;
  std::printf("parser=%s input=%s bytes=%zu series=%zu samples=%zu best_s=%.9f MBps=%.2f series_per_s=%.0f "
              "samples_per_s=%.0f reps_s=[",
              parserName, path.c_str(), body.size(), samples, samples, best, mbps, perSecond, perSecond);
  for (std::size_t i = 0; i < perRep.size(); ++i) std::printf("%s%.9f", i ? " " : "", perRep[i]);
  std::printf("] sink=%g\n", sink);
  std::fflush(stdout);
}

int runAnchor(const std::string& path, const AnchorOptions& o) {
  const std::string body = readFile(path);
  if (body.empty()) {
    std::fprintf(stderr, "cannot read %s (or it is empty)\n", path.c_str());
    return 2;
  }
  ExpositionParser parser;
  const FamilyFilter all = FamilyFilter::everything();
  SumVisitor visitor;
  ExpositionStats check = parser.parse(body, ExpositionFormat::Prometheus004, all, visitor);
  if (check.rejected()) {
    std::fprintf(stderr, "%s: %zu parse errors, first: line %zu: %s\n", path.c_str(), check.errors.size(),
                 check.errors.front().line, check.errors.front().message.c_str());
    return 1;
  }
  const std::size_t samples = check.samplesParsed;
  auto runs = [&](const char* mode) { return o.mode == "all" || o.mode == mode; };
  std::vector<double> per;

  if (runs("full")) {
    double best = timeBest(o, [&] { parser.parse(body, ExpositionFormat::Prometheus004, all, visitor); }, per);
    printAnchor("trimtab", path, body, samples, best, per, visitor.sum);
  }
  SampleBatch batch;
  parser.parseInto(body, ExpositionFormat::Prometheus004, all, batch);
  if (runs("batch")) {
    per.clear();
    double best = timeBest(o, [&] {
      batch.clear();
      parser.parseInto(body, ExpositionFormat::Prometheus004, all, batch);
    }, per);
    printAnchor("trimtab-batch", path, body, samples, best, per, static_cast<double>(batch.size()));
  }
  if (runs("filtered")) {
    // Three sample names wanted: the first, middle and last distinct name.
    std::vector<std::string> names;
    std::set<std::string> seen;
    for (std::size_t i = 0; i < batch.size(); ++i) {
      std::string n(batch.name(i));
      if (seen.insert(n).second) names.push_back(n);
    }
    FamilyFilter three;
    for (std::size_t i : {std::size_t{0}, names.size() / 2, names.size() - 1}) three.add(names[i]);
    per.clear();
    double best = timeBest(o, [&] { parser.parse(body, ExpositionFormat::Prometheus004, three, visitor); }, per);
    printAnchor("trimtab-filtered", path, body, samples, best, per, visitor.sum);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string anchor;
  AnchorOptions o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    bool hasValue = i + 1 < argc;
    if (a == "--anchor" && hasValue) {
      anchor = argv[++i];
    } else if (a == "--mode" && hasValue) {
      o.mode = argv[++i];
    } else if (a == "--count" && hasValue) {
      o.count = std::atol(argv[++i]);
    } else if (a == "--min" && hasValue) {
      o.minSeconds = std::atof(argv[++i]);
    } else if (a == "--reps" && hasValue) {
      o.reps = std::max(1, std::atoi(argv[++i]));
    } else if (a == "--warm" && hasValue) {
      o.warmSeconds = std::atof(argv[++i]);
    } else if (a == "--write-synth" && hasValue) {
      std::ofstream(argv[++i], std::ios::binary) << synth();
      return 0;
    }
  }
  if (!anchor.empty()) return runAnchor(anchor, o);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
