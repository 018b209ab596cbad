// SPDX-License-Identifier: Apache-2.0
#include "sources/procfs_source.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <exception>
#include <filesystem>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "sources/procfs_files.h"
#include "sources/source_params.h"

namespace trimtab {

namespace {

// Metric names: docs/metrics.md is their reference; keep both in step.
constexpr std::string_view kRss = "process_resident_memory_bytes";
constexpr std::string_view kVirtual = "process_virtual_memory_bytes";
constexpr std::string_view kCpuSeconds = "process_cpu_seconds_total";
constexpr std::string_view kCpuPercent = "process_cpu_usage_percent";
constexpr std::string_view kThreads = "process_threads";
constexpr std::string_view kOpenFds = "process_open_fds";
constexpr std::string_view kMaxFds = "process_max_fds";
constexpr std::string_view kMemAvailable = "node_memory_MemAvailable_bytes";
constexpr std::string_view kMemTotal = "node_memory_MemTotal_bytes";
constexpr std::string_view kSomeAvg10 = "node_pressure_memory_some_avg10";
constexpr std::string_view kSomeAvg60 = "node_pressure_memory_some_avg60";
constexpr std::string_view kSomeAvg300 = "node_pressure_memory_some_avg300";
constexpr std::string_view kFullAvg10 = "node_pressure_memory_full_avg10";
constexpr std::string_view kFullAvg60 = "node_pressure_memory_full_avg60";
constexpr std::string_view kFullAvg300 = "node_pressure_memory_full_avg300";
constexpr std::string_view kWaiting = "node_pressure_memory_waiting_seconds_total";
constexpr std::string_view kStalled = "node_pressure_memory_stalled_seconds_total";
constexpr std::string_view kLoad1 = "node_load1";
constexpr std::string_view kLoad5 = "node_load5";
constexpr std::string_view kLoad15 = "node_load15";

constexpr double kPercent = 100;
// A pid file holds one number; anything longer is not a pid file.
constexpr std::size_t kMaxPidFileBytes = 4096;

class SteadyClock final : public Clock {
 public:
  Seconds now() const override {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
};

bool wantsAny(const FamilyFilter& filter, std::initializer_list<std::string_view> names) {
  return std::any_of(names.begin(), names.end(), [&](std::string_view n) { return filter.wants(n); });
}

void emit(CollectResult& out, const FamilyFilter& filter, std::string_view name, MetricType type,
          double value) {
  if (filter.wants(name)) {
    out.batch.add(name, type, value);
  } else {
    ++out.skippedSamples;
  }
}

double clockTicksPerSecond() {
  long ticks = ::sysconf(_SC_CLK_TCK);
  return ticks > 0 ? static_cast<double>(ticks) : 100.0;
}

double pageSizeBytes() {
  long size = ::sysconf(_SC_PAGESIZE);
  return size > 0 ? static_cast<double>(size) : 4096.0;
}

bool allDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

Result<std::unique_ptr<MetricSource>> ProcfsSource::create(const SourceSpec& spec, ConfigNode& params) {
  ParamsCheck check(params);
  ProcfsOptions options;
  std::vector<std::string> given;
  if (params.has("pid")) {
    given.push_back("pid");
    ParamsCheck pidCheck(params);
    std::int64_t pid = params.getInteger("pid", 0);
    if (!pidCheck.failed() && (pid <= 0 || pid > INT_MAX)) {
      params.error("pid", "expected a positive process id, got " + std::to_string(pid));
    }
    options.target = ProcfsOptions::Target::Pid;
    options.pid = static_cast<int>(std::clamp<std::int64_t>(pid, 0, INT_MAX));
  }
  if (params.has("pid_file")) {
    given.push_back("pid_file");
    options.target = ProcfsOptions::Target::PidFile;
    options.pidFile = check.resolvePath(params.getString("pid_file"));
    if (options.pidFile.empty()) params.error("pid_file", "expected the path of a file holding a pid");
  }
  if (params.has("cmdline")) {
    given.push_back("cmdline");
    options.target = ProcfsOptions::Target::Cmdline;
    options.cmdline = params.getString("cmdline");
    if (options.cmdline.empty()) params.error("cmdline", "expected a non-empty command-line substring");
  }
  options.procRoot = check.resolvePath(params.getString("proc_root", "/proc"));
  if (options.procRoot.empty()) params.error("proc_root", "expected a directory, e.g. /proc");
  if (given.size() != 1) {
    std::string got;
    for (const auto& g : given) got += (got.empty() ? "" : ", ") + g;
    params.error("", given.empty() ? "one of pid, pid_file or cmdline is required"
                                   : "give only one of pid, pid_file or cmdline (got " + got + ")");
  }
  params.finish();
  if (check.failed()) return check.error(spec);
  return std::unique_ptr<MetricSource>(std::make_unique<ProcfsSource>(spec, std::move(options)));
}

ProcfsSource::ProcfsSource(SourceSpec spec, ProcfsOptions options, const Clock* elapsedClock)
    : spec_(std::move(spec)), options_(std::move(options)), clock_(elapsedClock) {
  if (!clock_) {
    ownClock_ = std::make_unique<SteadyClock>();
    clock_ = ownClock_.get();
  }
}

ProcfsSource::~ProcfsSource() = default;

std::string ProcfsSource::procPath(int pid, const char* file) const {
  return options_.procRoot + "/" + std::to_string(pid) + "/" + file;
}

bool ProcfsSource::cmdlineMatches(int pid) const {
  auto raw = procfs::readFile(procPath(pid, "cmdline"));
  if (!raw) return false;
  std::string text = procfs::cmdlineText(*raw);
  return !text.empty() && text.find(options_.cmdline) != std::string::npos;
}

Result<int> ProcfsSource::findByCmdline() {
  std::error_code ec;
  std::filesystem::directory_iterator it(options_.procRoot, ec), end;
  if (ec) return makeError("cannot list " + options_.procRoot + ": " + ec.message());
  std::vector<int> pids;
  for (; it != end; it.increment(ec)) {
    if (ec) return makeError("cannot list " + options_.procRoot + ": " + ec.message());
    std::string name = it->path().filename().string();
    if (allDigits(name) && name.size() < 10) pids.push_back(std::stoi(name));
  }
  std::sort(pids.begin(), pids.end());
  const int self = static_cast<int>(::getpid());
  for (int pid : pids) {
    if (pid != self && cmdlineMatches(pid)) return pid;
  }
  return makeError("no process matches cmdline '" + options_.cmdline + "'");
}

Result<int> ProcfsSource::resolvePid() {
  switch (options_.target) {
    case ProcfsOptions::Target::Pid:
      return options_.pid;
    case ProcfsOptions::Target::PidFile: {
      auto text = procfs::readFile(options_.pidFile, kMaxPidFileBytes);
      if (!text) return makeError("pid file: " + text.error().message);
      auto pid = procfs::parsePid(*text);
      if (!pid) return makeError("pid file " + options_.pidFile + ": " + pid.error().message);
      return pid;
    }
    case ProcfsOptions::Target::Cmdline:
      // The last match is kept while it still matches: a lower pid starting
      // later must not make the source jump between processes.
      if (cmdlinePid_ > 0 && cmdlineMatches(cmdlinePid_)) return cmdlinePid_;
      cmdlinePid_ = 0;
      auto pid = findByCmdline();
      if (pid) cmdlinePid_ = *pid;
      return pid;
  }
  return makeError("unknown procfs target");
}

Status ProcfsSource::collectProcess(int pid, const FamilyFilter& filter, CollectResult& out) {
  const std::string statPath = procPath(pid, "stat");
  bool gone = false;
  auto statText = procfs::readFile(statPath, procfs::kMaxProcFileBytes, &gone);
  if (!statText) {
    cmdlinePid_ = 0;
    if (gone) return makeError("process " + std::to_string(pid) + " is gone (no " + statPath + ")");
    return statText.error();
  }
  auto stat = procfs::parseStat(*statText);
  if (!stat) return makeError(statPath + ": " + stat.error().message);

  static const double ticksPerSecond = clockTicksPerSecond();
  const double cpuSeconds = static_cast<double>(stat->utimeTicks + stat->stimeTicks) / ticksPerSecond;
  const Seconds now = clock_->now();
  emit(out, filter, kCpuSeconds, MetricType::Counter, cpuSeconds);
  // Only a delta over one process counts: a new pid or start time is a restart.
  const bool sameProcess = lastCpu_.valid && lastCpu_.pid == pid && lastCpu_.startTicks == stat->startTicks;
  if (sameProcess && now > lastCpu_.at && cpuSeconds >= lastCpu_.cpuSeconds) {
    emit(out, filter, kCpuPercent, MetricType::Gauge,
         (cpuSeconds - lastCpu_.cpuSeconds) / (now - lastCpu_.at) * kPercent);
  }
  lastCpu_ = CpuReading{pid, stat->startTicks, cpuSeconds, now, true};
  emit(out, filter, kThreads, MetricType::Gauge, static_cast<double>(stat->threads));
  emit(out, filter, kVirtual, MetricType::Gauge, static_cast<double>(stat->vsizeBytes));

  // The rest is optional: a file we may not read (another user's fd/) or that
  // vanished mid-collect costs one metric and a warning, not the collection.
  if (filter.wants(kRss)) {
    auto statm = procfs::readFile(procPath(pid, "statm"));
    auto pages = statm ? procfs::parseStatmResidentPages(*statm) : Result<std::uint64_t>(statm.error());
    static const double pageSize = pageSizeBytes();
    if (pages) {
      emit(out, filter, kRss, MetricType::Gauge, static_cast<double>(*pages) * pageSize);
    } else {
      out.warnings.push_back(procPath(pid, "statm") + ": " + pages.error().message);
    }
  } else {
    ++out.skippedSamples;
  }
  if (filter.wants(kOpenFds)) {
    std::error_code ec;
    const std::string fdDir = procPath(pid, "fd");
    std::filesystem::directory_iterator it(fdDir, ec), end;
    std::size_t count = 0;
    for (; !ec && it != end; it.increment(ec)) ++count;
    if (ec) {
      out.warnings.push_back("cannot list " + fdDir + ": " + ec.message());
    } else {
      emit(out, filter, kOpenFds, MetricType::Gauge, static_cast<double>(count));
    }
  } else {
    ++out.skippedSamples;
  }
  if (filter.wants(kMaxFds)) {
    auto limits = procfs::readFile(procPath(pid, "limits"));
    auto maxFds = limits ? procfs::parseMaxOpenFiles(*limits) : Result<double>(limits.error());
    if (maxFds) {
      emit(out, filter, kMaxFds, MetricType::Gauge, *maxFds);
    } else {
      out.warnings.push_back(procPath(pid, "limits") + ": " + maxFds.error().message);
    }
  } else {
    ++out.skippedSamples;
  }
  return Status::success();
}

void ProcfsSource::collectSystem(const FamilyFilter& filter, CollectResult& out) {
  const std::string root = options_.procRoot;
  if (wantsAny(filter, {kMemAvailable, kMemTotal})) {
    auto meminfo = procfs::readFile(root + "/meminfo");
    if (!meminfo) {
      out.warnings.push_back(meminfo.error().message);
    } else {
      for (auto [name, key] : {std::pair{kMemAvailable, "MemAvailable"}, std::pair{kMemTotal, "MemTotal"}}) {
        if (auto bytes = procfs::meminfoBytes(*meminfo, key)) {
          emit(out, filter, name, MetricType::Gauge, *bytes);
        } else if (filter.wants(name)) {
          out.warnings.push_back(root + "/meminfo: no " + key + " line");
        } else {
          ++out.skippedSamples;
        }
      }
    }
  } else {
    out.skippedSamples += 2;
  }

  constexpr std::size_t kPressureMetrics = 8;
  if (wantsAny(filter, {kSomeAvg10, kSomeAvg60, kSomeAvg300, kFullAvg10, kFullAvg60, kFullAvg300,
                        kWaiting, kStalled})) {
    bool absent = false;
    const std::string path = root + "/pressure/memory";
    auto text = procfs::readFile(path, procfs::kMaxProcFileBytes, &absent);
    // No file (kernel without PSI, or psi=0) means no metric, not a problem.
    if (text) {
      auto p = procfs::parsePressure(*text);
      if (!p) {
        out.warnings.push_back(path + ": " + p.error().message);
      } else {
        emit(out, filter, kSomeAvg10, MetricType::Gauge, p->someAvg10);
        emit(out, filter, kSomeAvg60, MetricType::Gauge, p->someAvg60);
        emit(out, filter, kSomeAvg300, MetricType::Gauge, p->someAvg300);
        emit(out, filter, kWaiting, MetricType::Counter, p->someTotalSeconds);
        if (p->hasFull) {
          emit(out, filter, kFullAvg10, MetricType::Gauge, p->fullAvg10);
          emit(out, filter, kFullAvg60, MetricType::Gauge, p->fullAvg60);
          emit(out, filter, kFullAvg300, MetricType::Gauge, p->fullAvg300);
          emit(out, filter, kStalled, MetricType::Counter, p->fullTotalSeconds);
        }
      }
    } else if (!absent) {
      out.warnings.push_back(text.error().message);
    }
  } else {
    out.skippedSamples += kPressureMetrics;
  }

  if (wantsAny(filter, {kLoad1, kLoad5, kLoad15})) {
    auto text = procfs::readFile(root + "/loadavg");
    auto load = text ? procfs::parseLoadAvg(*text) : Result<procfs::LoadAvg>(text.error());
    if (load) {
      emit(out, filter, kLoad1, MetricType::Gauge, load->load1);
      emit(out, filter, kLoad5, MetricType::Gauge, load->load5);
      emit(out, filter, kLoad15, MetricType::Gauge, load->load15);
    } else {
      out.warnings.push_back(root + "/loadavg: " + load.error().message);
    }
  } else {
    out.skippedSamples += 3;
  }
}

CollectResult ProcfsSource::collect(const FamilyFilter& filter) {
  const auto start = std::chrono::steady_clock::now();
  CollectResult out;
  try {
    auto pid = resolvePid();
    if (!pid) {
      out.status = pid.error();
    } else if (Status s = collectProcess(*pid, filter, out); !s) {
      out.status = s;
    } else {
      collectSystem(filter, out);
    }
  } catch (const std::exception& e) {
    out.status = makeError(std::string("procfs: ") + e.what());
  }
  if (!out.status.ok()) {
    // A failed collection reports no series (MetricSource contract).
    out.batch.clear();
    out.skippedSamples = 0;
  }
  out.duration = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

TRIMTAB_REGISTER(SourceRegistry, "procfs", ProcfsSource::create);

}  // namespace trimtab
