// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "common/clock.h"
#include "common/config_node.h"
#include "common/result.h"
#include "sources/metric_source.h"

namespace trimtab {

// Which process a procfs source watches: exactly one of the three.
struct ProcfsOptions {
  enum class Target { Pid, PidFile, Cmdline };
  Target target = Target::Pid;
  int pid = 0;              // Target::Pid
  std::string pidFile;      // Target::PidFile: re-read on every collect
  std::string cmdline;      // Target::Cmdline: substring of /proc/*/cmdline (NULs as spaces)
  std::string procRoot = "/proc";
};

// Process and system metrics from /proc (kind "procfs"). The names, types and
// units are listed in docs/metrics.md: process_* for the watched process,
// node_* for the machine (memory, PSI memory pressure where the kernel has it,
// load average).
//
// A process that is gone makes collect() fail with an error naming the pid;
// pid_file and cmdline targets are resolved again on the next collect, so a
// restarted process is found. CPU % is the delta of utime+stime over the
// elapsed time between two collects of the same process (100 = one core), and
// is absent on the first collect and after a restart.
//
// Settings (params): pid | pid_file | cmdline (exactly one), proc_root
// (default /proc). The factory does no I/O.
//
// Thread safety: collect() is not reentrant (the MetricSource contract).
class ProcfsSource final : public MetricSource {
 public:
  static Result<std::unique_ptr<MetricSource>> create(const SourceSpec& spec, ConfigNode& params);

  // `elapsedClock` measures the time between collects for CPU %; null means a
  // steady clock of the source's own. Tests pass a ManualClock. Not owned.
  ProcfsSource(SourceSpec spec, ProcfsOptions options, const Clock* elapsedClock = nullptr);
  ~ProcfsSource() override;

  CollectResult collect(const FamilyFilter& filter) override;

 private:
  Result<int> resolvePid();
  Result<int> findByCmdline();
  bool cmdlineMatches(int pid) const;
  Status collectProcess(int pid, const FamilyFilter& filter, CollectResult& out);
  void collectSystem(const FamilyFilter& filter, CollectResult& out);
  std::string procPath(int pid, const char* file) const;

  SourceSpec spec_;
  ProcfsOptions options_;
  std::unique_ptr<Clock> ownClock_;
  const Clock* clock_;
  int cmdlinePid_ = 0;  // last pid matched by cmdline; re-checked before reuse

  // The previous collect's CPU reading, to compute CPU %.
  struct CpuReading {
    int pid = 0;
    std::uint64_t startTicks = 0;
    double cpuSeconds = 0;
    Seconds at = 0;
    bool valid = false;
  };
  CpuReading lastCpu_;
};

}  // namespace trimtab
