// SPDX-License-Identifier: Apache-2.0
#include "sources/procfs_source.h"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>

#include "sources/procfs_files.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

const std::string kFixture = std::string(TRIMTAB_SOURCE_DIR) + "/tests/fixtures/proc";

// A private copy of the fixture tree that a test may rewrite; removed at the end.
class TempProc {
 public:
  TempProc() {
    static int counter = 0;
    root_ = fs::temp_directory_path() /
            ("trimtab-procfs-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
    fs::remove_all(root_);
    fs::copy(kFixture, root_, fs::copy_options::recursive);
  }
  ~TempProc() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  std::string root() const { return root_.string(); }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative, std::ios::trunc) << text;
  }
  void remove(const std::string& relative) const { fs::remove_all(root_ / relative); }

 private:
  fs::path root_;
};

std::string statLine(int pid, int utime, int stime, int threads, long start) {
  return std::to_string(pid) + " (my app) S 1 1 1 0 -1 0 0 0 0 0 " + std::to_string(utime) + " " +
         std::to_string(stime) + " 0 0 20 0 " + std::to_string(threads) + " 0 " + std::to_string(start) +
         " 104857600 2560 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 0 17 3 0 0 0 0 0\n";
}

SourceSpec spec() {
  SourceSpec s;
  s.name = "app";
  s.kind = "procfs";
  return s;
}

ProcfsOptions byPid(int pid, const std::string& root = kFixture) {
  ProcfsOptions o;
  o.target = ProcfsOptions::Target::Pid;
  o.pid = pid;
  o.procRoot = root;
  return o;
}

std::map<std::string, double> values(const CollectResult& r) {
  std::map<std::string, double> out;
  for (std::size_t i = 0; i < r.batch.size(); ++i) out[std::string(r.batch.key(i))] = r.batch.entry(i).value;
  return out;
}

bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

const double kTicks = static_cast<double>(::sysconf(_SC_CLK_TCK));
const double kPage = static_cast<double>(::sysconf(_SC_PAGESIZE));

TEST_CASE("procfs fixture values arrive exactly, with their types") {
  ManualClock clock(100);
  ProcfsSource source(spec(), byPid(4242), &clock);
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE_MESSAGE(r.status.ok(), r.status.error().message);
  CHECK(r.warnings.empty());
  CHECK(r.skippedSamples == 0);
  auto v = values(r);
  CHECK(v.at("process_resident_memory_bytes") == 2560 * kPage);
  CHECK(v.at("process_virtual_memory_bytes") == 104857600);
  CHECK(v.at("process_cpu_seconds_total") == 400 / kTicks);
  CHECK(v.at("process_threads") == 7);
  CHECK(v.at("process_open_fds") == 5);
  CHECK(v.at("process_max_fds") == 1024);
  CHECK(v.at("node_memory_MemTotal_bytes") == 16315320.0 * 1024);
  CHECK(v.at("node_memory_MemAvailable_bytes") == 8157660.0 * 1024);
  CHECK(v.at("node_pressure_memory_some_avg10") == 1.25);
  CHECK(v.at("node_pressure_memory_some_avg60") == 0.5);
  CHECK(v.at("node_pressure_memory_some_avg300") == 0.1);
  CHECK(v.at("node_pressure_memory_full_avg10") == 0.75);
  CHECK(v.at("node_pressure_memory_full_avg60") == 0.25);
  CHECK(v.at("node_pressure_memory_full_avg300") == 0.05);
  CHECK(v.at("node_pressure_memory_waiting_seconds_total") == 2.5);
  CHECK(v.at("node_pressure_memory_stalled_seconds_total") == 1.25);
  CHECK(v.at("node_load1") == 0.52);
  CHECK(v.at("node_load5") == 0.58);
  CHECK(v.at("node_load15") == 0.59);
  CHECK(v.count("process_cpu_usage_percent") == 0);  // needs two collects
  CHECK(v.size() == 19);

  for (std::size_t i = 0; i < r.batch.size(); ++i) {
    std::string name(r.batch.name(i));
    bool counter = name.ends_with("_total");
    CAPTURE(name);
    CHECK(r.batch.entry(i).type == (counter ? MetricType::Counter : MetricType::Gauge));
    CHECK(r.batch.key(i) == name);  // no labels
  }
}

TEST_CASE("CPU % is the delta of utime+stime over elapsed time, per core") {
  TempProc proc;
  ManualClock clock(1000);
  ProcfsSource source(spec(), byPid(4242, proc.root()), &clock);
  auto first = source.collect(FamilyFilter::everything());
  REQUIRE(first.status.ok());
  CHECK(values(first).count("process_cpu_usage_percent") == 0);

  // 300 more ticks of user time and 500 of system time over 4 s.
  proc.write("4242/stat", statLine(4242, 550, 650, 9, 123456));
  clock.advance(4);
  auto second = source.collect(FamilyFilter::everything());
  REQUIRE(second.status.ok());
  auto v = values(second);
  const double expected = (1200 / kTicks - 400 / kTicks) / 4 * 100;
  CHECK(v.at("process_cpu_usage_percent") == expected);
  if (kTicks == 100) CHECK(v.at("process_cpu_usage_percent") == doctest::Approx(200));  // two cores busy
  CHECK(v.at("process_threads") == 9);

  SUBCASE("a restart (new start time) resets the baseline") {
    proc.write("4242/stat", statLine(4242, 1, 1, 1, 999999));
    clock.advance(1);
    auto third = source.collect(FamilyFilter::everything());
    REQUIRE(third.status.ok());
    CHECK(values(third).count("process_cpu_usage_percent") == 0);
    proc.write("4242/stat", statLine(4242, 51, 1, 1, 999999));
    clock.advance(1);
    auto fourth = source.collect(FamilyFilter::everything());
    CHECK(values(fourth).at("process_cpu_usage_percent") == (52 / kTicks - 2 / kTicks) / 1 * 100);
  }
  SUBCASE("no elapsed time gives no CPU %") {
    auto again = source.collect(FamilyFilter::everything());
    CHECK(values(again).count("process_cpu_usage_percent") == 0);
  }
}

TEST_CASE("the filter skips unwanted metrics and the files behind them") {
  TempProc proc;
  proc.remove("meminfo");
  proc.remove("4242/fd");
  FamilyFilter filter;
  filter.add("process_threads");
  filter.add("node_load1");
  ProcfsSource source(spec(), byPid(4242, proc.root()));
  auto r = source.collect(filter);
  REQUIRE(r.status.ok());
  CHECK(r.warnings.empty());  // meminfo and fd/ were not needed, so not read
  auto v = values(r);
  CHECK(v.size() == 2);
  CHECK(v.at("process_threads") == 7);
  CHECK(v.at("node_load1") == 0.52);
  CHECK(r.skippedSamples == 17);
}

TEST_CASE("a missing pressure file means no PSI metrics and no error") {
  TempProc proc;
  proc.remove("pressure");
  ProcfsSource source(spec(), byPid(4242, proc.root()));
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  CHECK(r.warnings.empty());
  auto v = values(r);
  for (const auto& [key, _] : v) CHECK_FALSE(key.starts_with("node_pressure_"));
  CHECK(v.count("node_memory_MemTotal_bytes") == 1);
}

TEST_CASE("broken optional files cost a warning each, not the collection") {
  TempProc proc;
  proc.write("pressure/memory", "some avg10=abc\n");
  proc.write("loadavg", "\n");
  proc.write("4242/limits", "Limit Soft Hard\n");
  proc.remove("4242/statm");
  ProcfsSource source(spec(), byPid(4242, proc.root()));
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE(r.status.ok());
  REQUIRE(r.warnings.size() == 4);
  CHECK(contains(r.warnings[0], "4242/statm: cannot read"));
  CHECK(contains(r.warnings[1], "4242/limits: no 'Max open files' line"));
  CHECK(contains(r.warnings[2], "pressure/memory: avg10 is not a number >= 0: 'abc'"));
  CHECK(contains(r.warnings[3], "loadavg: expected three load averages"));
  CHECK(values(r).at("process_threads") == 7);
}

TEST_CASE("a missing process or a garbage stat file is a clear error") {
  ProcfsSource gone(spec(), byPid(99999));
  auto r = gone.collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, "process 99999 is gone"));
  CHECK(r.batch.empty());

  ProcfsSource garbage(spec(), byPid(4244));
  auto g = garbage.collect(FamilyFilter::everything());
  REQUIRE_FALSE(g.status.ok());
  CHECK(contains(g.status.error().message, "4244/stat: expected 'pid (comm) state ...'"));
  CHECK(g.batch.empty());

  for (const char* text : {"1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 1a 2 0 0 20 0 1 0 5 6 7", ""}) {
    CAPTURE(text);
    CHECK_FALSE(procfs::parseStat(text).ok());
  }
}

TEST_CASE("max fds 'unlimited' is +Inf") {
  ProcfsSource source(spec(), byPid(4243));
  FamilyFilter filter;
  filter.add("process_max_fds");
  auto r = source.collect(filter);
  REQUIRE(r.status.ok());
  CHECK(std::isinf(values(r).at("process_max_fds")));
}

TEST_CASE("pid_file is re-read on every collect, so a restarted process is found") {
  TempProc proc;
  proc.write("app.pid", "4242\n");
  ProcfsOptions o;
  o.target = ProcfsOptions::Target::PidFile;
  o.pidFile = proc.root() + "/app.pid";
  o.procRoot = proc.root();
  ProcfsSource source(spec(), o);
  FamilyFilter filter;
  filter.add("process_threads");
  CHECK(values(source.collect(filter)).at("process_threads") == 7);

  proc.write("app.pid", "777");
  auto gone = source.collect(filter);
  REQUIRE_FALSE(gone.status.ok());
  CHECK(contains(gone.status.error().message, "process 777 is gone"));

  proc.write("app.pid", "4243");
  CHECK(values(source.collect(filter)).at("process_threads") == 2);

  proc.write("app.pid", "not a pid");
  auto bad = source.collect(filter);
  REQUIRE_FALSE(bad.status.ok());
  CHECK(contains(bad.status.error().message, "app.pid: expected a positive process id, got 'not a pid'"));

  proc.remove("app.pid");
  auto missing = source.collect(filter);
  REQUIRE_FALSE(missing.status.ok());
  CHECK(contains(missing.status.error().message, "pid file: cannot read"));
}

TEST_CASE("cmdline picks the lowest matching pid and follows a restart") {
  TempProc proc;
  ProcfsOptions o;
  o.target = ProcfsOptions::Target::Cmdline;
  o.cmdline = "/usr/bin/myapp --";
  o.procRoot = proc.root();
  ProcfsSource source(spec(), o);
  FamilyFilter filter;
  filter.add("process_threads");
  CHECK(values(source.collect(filter)).at("process_threads") == 7);  // 4242 before 4243

  proc.remove("4242");  // the process exits; the next collect finds the other one
  CHECK(values(source.collect(filter)).at("process_threads") == 2);

  o.cmdline = "--port 8080";  // only 4242 had it, and it is gone
  ProcfsSource none(spec(), o);
  auto r = none.collect(filter);
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, "no process matches cmdline '--port 8080'"));
}

TEST_CASE("cmdline never matches trimtab's own pid") {
  TempProc proc;
  const std::string self = std::to_string(::getpid());
  proc.write(self + "/cmdline", std::string("selfmatch\0x\0", 12));
  proc.write(self + "/stat", statLine(::getpid(), 1, 1, 1, 1));
  ProcfsOptions o;
  o.target = ProcfsOptions::Target::Cmdline;
  o.cmdline = "selfmatch x";
  o.procRoot = proc.root();
  ProcfsSource source(spec(), o);
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE_FALSE(r.status.ok());
  CHECK(contains(r.status.error().message, "no process matches"));
}

TEST_CASE("the real /proc/self gives sane values") {
  ManualClock clock(0);
  ProcfsSource source(spec(), byPid(static_cast<int>(::getpid()), "/proc"), &clock);
  auto r = source.collect(FamilyFilter::everything());
  REQUIRE_MESSAGE(r.status.ok(), r.status.error().message);
  CHECK(r.warnings.empty());
  auto v = values(r);
  CHECK(v.at("process_resident_memory_bytes") > 0);
  CHECK(v.at("process_virtual_memory_bytes") >= v.at("process_resident_memory_bytes"));
  CHECK(v.at("process_threads") >= 1);
  CHECK(v.at("process_open_fds") >= 3);
  CHECK(v.at("process_max_fds") >= v.at("process_open_fds"));
  CHECK(v.at("process_cpu_seconds_total") >= 0);
  CHECK(v.at("node_memory_MemTotal_bytes") >= v.at("node_memory_MemAvailable_bytes"));
  CHECK(v.at("node_memory_MemAvailable_bytes") > 0);
  CHECK(v.at("node_load1") >= 0);

  // Burn some CPU, then CPU % is positive and bounded by the core count.
  volatile double sink = 0;
  for (int i = 0; i < 20'000'000; ++i) sink = sink + std::sqrt(static_cast<double>(i));
  clock.advance(1);
  auto again = source.collect(FamilyFilter::everything());
  REQUIRE(again.status.ok());
  double cpu = values(again).at("process_cpu_usage_percent");
  CHECK(cpu > 0);
}

TEST_CASE("procfs parsers handle edge input") {
  auto p = procfs::parsePressure("some avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
  REQUIRE(p.ok());
  CHECK_FALSE(p->hasFull);
  CHECK_FALSE(procfs::parsePressure("").ok());
  CHECK_FALSE(procfs::parsePressure("full avg10=1 avg60=1 avg300=1 total=1\n").ok());
  CHECK_FALSE(procfs::parsePressure("some avg10=1 avg60=1\n").ok());
  CHECK(procfs::meminfoBytes("MemTotalX: 5 kB\nMemTotal: 7 kB\n", "MemTotal") == 7 * 1024.0);
  CHECK_FALSE(procfs::meminfoBytes("MemFree: 1 kB\n", "MemTotal").has_value());
  CHECK(procfs::parsePid(" 42\n").value() == 42);
  CHECK_FALSE(procfs::parsePid("-3").ok());
  CHECK_FALSE(procfs::parsePid("42x").ok());
  CHECK(procfs::cmdlineText(std::string("a\0b c\0\0", 7)) == "a b c");
  CHECK(procfs::parseStatmResidentPages("1 2 3").value() == 2);
  CHECK_FALSE(procfs::parseStatmResidentPages("1").ok());
  // Found by tests/fuzz/procfs_fuzz.cpp: from_chars took these, no kernel writes them.
  CHECK_FALSE(procfs::parseLoadAvg("nan 0.5 0.5 1/100 42").ok());
  CHECK_FALSE(procfs::parseLoadAvg("-1 0.5 inf 1/100 42").ok());
  CHECK(procfs::parseLoadAvg("0.25 0.5 1.5 1/100 42").value().load15 == 1.5);
  CHECK_FALSE(procfs::parsePressure("some avg10=-1.00 avg60=0.00 avg300=0.00 total=0\n").ok());
  CHECK_FALSE(procfs::parsePressure("some avg10=inf avg60=0.00 avg300=0.00 total=0\n").ok());
  auto negative = procfs::parseMaxOpenFiles("Max open files            -024                 4096                 files\n");
  REQUIRE_FALSE(negative.ok());
  CHECK(negative.error().message == "'Max open files' soft limit is not a number >= 0: '-024'");
  CHECK(procfs::meminfoBytes("MemTotal: -7 kB\n", "MemTotal") == std::nullopt);
}

}  // namespace
}  // namespace trimtab
