// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"

// Readers and parsers of the /proc files the procfs source uses. Pure
// functions over text (plus one bounded file reader), so each format is tested
// on its own with fixture strings. Parsers never throw; garbage is an Error
// that says which field was wrong.
namespace trimtab::procfs {

// /proc files report size 0, so they are read until EOF; more than this is
// not a /proc file we understand.
inline constexpr std::size_t kMaxProcFileBytes = 64u << 10;

// Reads a whole file of at most maxBytes. `missing` (if given) is set when the
// file does not exist (ENOENT, ESRCH, EOPNOTSUPP: for /proc/PID, the process is gone).
Result<std::string> readFile(const std::string& path, std::size_t maxBytes = kMaxProcFileBytes,
                             bool* missing = nullptr);

// Fields of /proc/PID/stat (see proc(5)); times in clock ticks.
struct ProcStat {
  std::uint64_t utimeTicks = 0;
  std::uint64_t stimeTicks = 0;
  std::int64_t threads = 0;
  std::uint64_t startTicks = 0;  // since boot: with the pid, identifies one process
  std::uint64_t vsizeBytes = 0;
};
Result<ProcStat> parseStat(std::string_view text);

// Second field of /proc/PID/statm: resident pages.
Result<std::uint64_t> parseStatmResidentPages(std::string_view text);

// "Max open files" soft limit of /proc/PID/limits; +Inf for "unlimited".
Result<double> parseMaxOpenFiles(std::string_view text);

// A "Key:   1234 kB" line of /proc/meminfo, in bytes; nullopt when absent.
std::optional<double> meminfoBytes(std::string_view text, std::string_view key);

// /proc/pressure/memory (PSI). avg* are percentages of wall time; totals are
// seconds (the file gives microseconds). The memory file always has a `full`
// line; hasFull still guards against a truncated file.
struct Pressure {
  double someAvg10 = 0, someAvg60 = 0, someAvg300 = 0, someTotalSeconds = 0;
  double fullAvg10 = 0, fullAvg60 = 0, fullAvg300 = 0, fullTotalSeconds = 0;
  bool hasFull = false;
};
Result<Pressure> parsePressure(std::string_view text);

struct LoadAvg {
  double load1 = 0, load5 = 0, load15 = 0;
};
Result<LoadAvg> parseLoadAvg(std::string_view text);

// A pid file: one positive integer, surrounding whitespace allowed.
Result<int> parsePid(std::string_view text);

// /proc/PID/cmdline with NULs as spaces and trailing separators removed.
std::string cmdlineText(std::string_view raw);

}  // namespace trimtab::procfs
