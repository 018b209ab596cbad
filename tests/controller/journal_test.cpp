// SPDX-License-Identifier: Apache-2.0
#include "controller/journal.h"

#include <doctest/doctest.h>

#include <sys/resource.h>

#include <cmath>
#include <cstring>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace trimtab {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed at the end.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "trimtab-journal-XXXXXX").string();
    REQUIRE(mkdtemp(tmpl.data()) != nullptr);
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  std::string file(const std::string& name) const { return (path / name).string(); }
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void spit(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

JournalRecord decision(const std::string& knob, double previous, double decided,
                       Verdict verdict = Verdict::Apply, Seconds time = 1700000000) {
  JournalRecord r;
  r.kind = "decision";
  Decision& d = r.decision;
  d.time = time;
  d.policy = "pool";
  d.knob = knob;
  d.proposed = decided + 5;
  d.decided = decided;
  d.previous = previous;
  d.verdict = verdict;
  d.rule = "max step 5";
  d.reason = "waiting clients 12 > 4";
  d.location = "policies/pool.lua:42";
  d.inputs = {{"avg(waiting[1m])", 12, false, false}, {"queue", NAN, false, true}};
  return r;
}

JournalRecord outcome(const std::string& knob, double previous, double decided, bool ok) {
  JournalRecord r = decision(knob, previous, decided);
  r.kind = "outcome";
  r.ok = ok;
  r.effective = ok;
  r.detail = ok ? "SET default_pool_size" : "connection refused";
  r.attempts = ok ? 1 : 3;
  r.actuatorLatency = 0.012;
  return r;
}

JournalRecord event(const std::string& name, const std::string& message) {
  JournalRecord r;
  r.kind = "event";
  r.eventTime = 1700000000;
  r.event = name;
  r.message = message;
  return r;
}

std::string line(const JournalRecord& r) { return toJsonLine(r) + "\n"; }

// `count` applied changes of knob "pool", 0 -> 1 -> ... -> count, each with its outcome.
void appendPoolChanges(Journal& j, int count) {
  for (int i = 0; i < count; ++i) {
    REQUIRE(j.append(decision("pool", i, i + 1)).ok());
    REQUIRE(j.append(outcome("pool", i, i + 1, true)).ok());
  }
}

// "HH:MM:SS " at the start of a rendered record.
bool startsWithClock(const std::string& s) {
  if (s.size() < 9 || s[2] != ':' || s[5] != ':' || s[8] != ' ') return false;
  for (int i : {0, 1, 3, 4, 6, 7}) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

bool anyContains(const std::vector<std::string>& lines, const std::string& needle) {
  for (const auto& l : lines) {
    if (l.find(needle) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("journal records round-trip through JSON lines") {
  JournalRecord d = decision("db_pool_size", 20, 25);
  std::string text = toJsonLine(d);
  CHECK(text.find('\n') == std::string::npos);
  CHECK(text.find("\"value\":null") != std::string::npos);  // NaN input value
  CHECK(text.find("\"verdict\":\"apply\"") != std::string::npos);
  auto back = fromJsonLine(text);
  REQUIRE_MESSAGE(back.ok(), back.error().message);
  const Decision& a = d.decision;
  const Decision& b = back->decision;
  CHECK(back->kind == "decision");
  CHECK(b.time == a.time);
  CHECK(b.policy == a.policy);
  CHECK(b.knob == a.knob);
  CHECK(b.proposed == a.proposed);
  CHECK(b.decided == a.decided);
  CHECK(b.previous == a.previous);
  CHECK(b.verdict == a.verdict);
  CHECK(b.rule == a.rule);
  CHECK(b.reason == a.reason);
  CHECK(b.location == a.location);
  REQUIRE(b.inputs.size() == 2);
  CHECK(b.inputs[0].what == "avg(waiting[1m])");
  CHECK(b.inputs[0].value == 12);
  CHECK(std::isnan(b.inputs[1].value));
  CHECK(b.inputs[1].missing);
  CHECK_FALSE(back->ok.has_value());

  JournalRecord o = outcome("db_pool_size", 20, 25, true);
  o.decision.verdict = Verdict::DryRun;
  o.decision.proposed = std::numeric_limits<double>::infinity();
  auto ob = fromJsonLine(toJsonLine(o));
  REQUIRE_MESSAGE(ob.ok(), ob.error().message);
  CHECK(ob->kind == "outcome");
  CHECK(ob->ok == std::optional<bool>(true));
  CHECK(ob->effective == std::optional<bool>(true));
  CHECK(ob->detail == "SET default_pool_size");
  CHECK(ob->attempts == 1);
  CHECK(ob->actuatorLatency == doctest::Approx(0.012));
  CHECK(ob->decision.verdict == Verdict::DryRun);
  CHECK(toJsonLine(o).find("\"proposed\":\"+Inf\"") != std::string::npos);
  CHECK(ob->decision.proposed == std::numeric_limits<double>::infinity());  // not NaN: told apart
  o.decision.proposed = -std::numeric_limits<double>::infinity();
  CHECK(fromJsonLine(toJsonLine(o))->decision.proposed == -std::numeric_limits<double>::infinity());
  CHECK(std::isnan(fromJsonLine(R"({"kind":"decision","ts":1,"knob":"k","policy":"p","proposed":null,)"
                                R"("decided":1,"previous":1,"verdict":"vetoed"})")->decision.proposed));
  // A damaged line's attempts out of int's range (the cast would be undefined).
  std::string huge = toJsonLine(o);
  const auto at = huge.find("\"attempts\":1");
  REQUIRE(at != std::string::npos);
  huge.replace(at, std::strlen("\"attempts\":1"), "\"attempts\":1e300");
  CHECK(fromJsonLine(huge)->attempts == 1'000'000'000);

  JournalRecord e = event("start", "trimtab 0.1.0");
  e.applied = {{"a", 1}, {"b", 2.5}};
  auto eb = fromJsonLine(toJsonLine(e));
  REQUIRE_MESSAGE(eb.ok(), eb.error().message);
  CHECK(eb->kind == "event");
  CHECK(eb->eventTime == 1700000000);
  CHECK(eb->event == "start");
  CHECK(eb->message == "trimtab 0.1.0");
  CHECK(eb->applied == e.applied);
}

TEST_CASE("bad UTF-8 from a policy does not break the journal") {
  JournalRecord d = decision("k", 1, 2);
  d.decision.reason = std::string("bad \xff\xfe bytes");
  std::string text = toJsonLine(d);
  auto back = fromJsonLine(text);
  REQUIRE(back.ok());
  CHECK(back->decision.reason.find("bad") == 0);
}

TEST_CASE("fromJsonLine explains what is wrong") {
  auto err = [](const std::string& text) {
    auto r = fromJsonLine(text);
    REQUIRE_FALSE(r.ok());
    return r.error().message;
  };
  CHECK(err("garbage").find("not JSON") != std::string::npos);
  CHECK(err("[1,2]") == "not a JSON object");
  CHECK(err("{\"ts\":1}").find("\"kind\"") != std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"weird\"}").find("decision, outcome or event") != std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"decision\",\"verdict\":\"apply\"}").find("\"knob\"") != std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"decision\",\"knob\":\"k\",\"verdict\":\"maybe\"}").find("maybe") !=
        std::string::npos);
  CHECK(err("{\"ts\":\"x\",\"kind\":\"decision\",\"knob\":\"k\",\"verdict\":\"apply\"}").find("\"ts\"") !=
        std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"outcome\",\"knob\":\"k\",\"verdict\":\"apply\",\"ok\":1}").find("\"ok\"") !=
        std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"decision\",\"knob\":\"k\",\"verdict\":\"apply\",\"inputs\":3}")
            .find("inputs") != std::string::npos);
  CHECK(fromJsonLine("{\"ts\":1,\"kind\":\"decision\",\"knob\":\"k\",\"verdict\":\"apply\"}").ok());
  // Only Prometheus' spellings of the non-finite values pass for numbers.
  CHECK(err("{\"ts\":1,\"kind\":\"event\",\"event\":\"checkpoint\",\"applied\":{\"a\":\"lots\"}}")
            .find("applied") != std::string::npos);
  CHECK(err("{\"ts\":1,\"kind\":\"decision\",\"knob\":\"k\",\"verdict\":\"apply\",\"proposed\":\"Infinity\"}")
            .find("\"proposed\"") != std::string::npos);
  CHECK(fromJsonLine("{\"ts\":1,\"kind\":\"event\",\"event\":\"checkpoint\",\"applied\":{\"a\":\"-Inf\"}}").ok());
}

TEST_CASE("recovery takes the last successful outcome per knob") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  {
    Journal j;
    auto rec = j.open(opt);
    REQUIRE(rec.ok());
    CHECK(rec->records == 0);
    CHECK(rec->lastApplied.empty());
    CHECK(j.isOpen());
    CHECK(j.append(event("start", "")).ok());
    CHECK(j.append(decision("a", 10, 15)).ok());
    CHECK(j.append(outcome("a", 10, 15, true)).ok());
    CHECK(j.append(decision("a", 15, 20)).ok());
    CHECK(j.append(outcome("a", 15, 20, false)).ok());   // failed: does not count
    CHECK(j.append(decision("b", 1, 2)).ok());
    CHECK(j.append(outcome("b", 1, 2, true)).ok());
    CHECK(j.append(decision("b", 2, 3)).ok());
    CHECK(j.append(outcome("b", 2, 3, true)).ok());
    CHECK(j.append(decision("c", 5, 6)).ok());           // outcome never arrived
    CHECK(j.append(decision("d", 5, 6, Verdict::DryRun)).ok());
  }
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->records == 11);
  CHECK(rec->badLines == 0);
  CHECK_FALSE(rec->tornTail);
  CHECK(rec->warnings.empty());
  CHECK(rec->lastApplied == std::map<std::string, double>{{"a", 15}, {"b", 3}});
  CHECK(rec->unfinished == std::map<std::string, double>{{"c", 6}});
}

TEST_CASE("recovery reads the last rotated file first: an apply without outcome, a torn checkpoint") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  // The rotated file: a applied at 144, then b's apply decided (its
  // outcome never came: trimtab died while it ran, right after a rotation).
  spit(opt.path + ".1", toJsonLine(decision("a", 10, 144)) + "\n" + toJsonLine(outcome("a", 10, 144, true)) + "\n" +
                            toJsonLine(decision("b", 1, 5)) + "\n");
  // The current file: its checkpoint torn by the crash.
  JournalRecord checkpoint = event("checkpoint", "");
  checkpoint.applied = {{"a", 144}};
  spit(opt.path, toJsonLine(checkpoint).substr(0, 20));
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->tornTail);
  CHECK(rec->lastApplied == std::map<std::string, double>{{"a", 144}});
  CHECK(rec->unfinished == std::map<std::string, double>{{"b", 5}});
}

TEST_CASE("a journal whose directory does not exist yet creates it") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("out/demo/journal.jsonl");
  Journal j;
  auto rec = j.open(opt);
  REQUIRE_MESSAGE(rec.ok(), (rec.ok() ? "" : rec.error().message));
  CHECK(j.append(event("start", "")).ok());
  CHECK(fs::exists(opt.path));
  // A directory that cannot be made (a file is in the way) is an error naming the journal.
  JournalOptions blocked;
  blocked.path = dir.file("journal.jsonl/sub/journal.jsonl");
  std::ofstream(dir.file("journal.jsonl")) << "";
  Journal k;
  auto failed = k.open(blocked);
  REQUIRE_FALSE(failed.ok());
  CHECK(failed.error().message.find("cannot create its directory") != std::string::npos);
}

TEST_CASE("a journal in use by another instance is refused before it is read") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  {
    Journal first;
    REQUIRE(first.open(opt).ok());
    // The first instance's last line is torn while it writes it.
    std::ofstream(opt.path, std::ios::app) << "{\"ts\":1,\"kind\":\"ev";
    const std::string written = slurp(opt.path);
    Journal second;
    auto refused = second.open(opt);
    REQUIRE_FALSE(refused.ok());
    CHECK_MESSAGE(refused.error().message.find("is in use by another trimtab") != std::string::npos,
                  refused.error().message);
    CHECK(slurp(opt.path) == written);  // nothing cut, nothing written
    // The lock is beside the journal, so a rotation keeps it.
    CHECK(fs::exists(opt.path + ".lock"));
    // A symlink to the journal finds the same lock.
    fs::create_directories(dir.path / "other");
    fs::create_symlink(opt.path, dir.path / "other" / "journal.jsonl");
    JournalOptions linked;
    linked.path = (dir.path / "other" / "journal.jsonl").string();
    Journal viaLink;
    CHECK_FALSE(viaLink.open(linked).ok());
    // A journal opened without `exclusive` (the simulator's) does not lock.
    JournalOptions shared;
    shared.path = dir.file("other.jsonl");
    shared.exclusive = false;
    Journal third, fourth;
    CHECK(third.open(shared).ok());
    CHECK(fourth.open(shared).ok());
  }
  Journal again;  // the first one closed: free again
  CHECK(again.open(opt).ok());
}

TEST_CASE("a torn last line is reported, truncated, and appends start on a fresh line") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  std::string good = line(decision("a", 1, 2)) + line(outcome("a", 1, 2, true));
  std::string torn = toJsonLine(outcome("a", 2, 9, true)).substr(0, 40);
  spit(opt.path, good + torn);

  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->tornTail);
  CHECK(rec->records == 2);
  CHECK(rec->badLines == 0);
  CHECK(anyContains(rec->warnings, opt.path + ":3: torn last line"));
  CHECK(rec->lastApplied == std::map<std::string, double>{{"a", 2}});
  CHECK(slurp(opt.path) == good);  // the torn bytes are gone

  REQUIRE(j.append(event("start", "after crash")).ok());
  std::vector<std::string> warnings;
  auto all = Journal::readAll(opt.path, &warnings);
  REQUIRE(all.ok());
  CHECK(warnings.empty());
  REQUIRE(all->size() == 3);
  CHECK((*all)[2].event == "start");
}

TEST_CASE("a whole last record that only lacks its newline is kept") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  spit(opt.path, line(decision("a", 1, 2)) + toJsonLine(outcome("a", 1, 2, true)));
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->tornTail);
  CHECK(rec->records == 2);
  CHECK(anyContains(rec->warnings, "record kept"));
  CHECK(rec->lastApplied == std::map<std::string, double>{{"a", 2}});
  REQUIRE(j.append(event("start", "")).ok());
  auto all = Journal::readAll(opt.path, nullptr);
  REQUIRE(all.ok());
  CHECK(all->size() == 3);
}

TEST_CASE("readAll says where the complete lines end, for tail --follow to go on from there") {
  TempDir dir;
  const std::string path = dir.file("journal.jsonl");
  const std::string complete = line(decision("a", 1, 2)) + line(outcome("a", 1, 2, true));
  spit(path, complete + toJsonLine(event("start", "")));  // the writer is mid-line
  auto whole = Journal::readAll(path, nullptr);
  REQUIRE(whole.ok());
  CHECK(whole->size() == 3);  // show: the unterminated record is whole, kept
  std::uint64_t end = 0;
  auto followed = Journal::readAll(path, nullptr, &end);
  REQUIRE(followed.ok());
  CHECK(end == complete.size());
  CHECK(followed->size() == 2);  // follow reads the third once its line is complete
}

TEST_CASE("garbage lines in the middle are counted, named and skipped") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  spit(opt.path, line(outcome("a", 1, 2, true)) + "this is not json\n" + "{\"kind\":\"decision\"}\n" + "\n" +
                     line(outcome("a", 2, 3, true)));
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->records == 2);
  CHECK(rec->badLines == 2);
  CHECK_FALSE(rec->tornTail);
  CHECK(anyContains(rec->warnings, opt.path + ":2: bad record skipped"));
  CHECK(anyContains(rec->warnings, opt.path + ":3: bad record skipped"));
  CHECK(rec->lastApplied == std::map<std::string, double>{{"a", 3}});

  std::vector<std::string> warnings;
  auto all = Journal::readAll(opt.path, &warnings);
  REQUIRE(all.ok());
  CHECK(all->size() == 2);
  CHECK(warnings.size() == 2);
}

TEST_CASE("a flood of bad lines gives a bounded number of warnings") {
  TempDir dir;
  std::string path = dir.file("junk.jsonl");
  std::string text;
  for (int i = 0; i < 100; ++i) text += "junk\n";
  spit(path, text);
  std::vector<std::string> warnings;
  auto all = Journal::readAll(path, &warnings);
  REQUIRE(all.ok());
  CHECK(all->empty());
  CHECK(warnings.size() < 30);
  CHECK(anyContains(warnings, "80 more bad records"));
}

TEST_CASE("rotation by size keeps N files and carries the last applied values") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  opt.rotateBytes = 2000;
  opt.keepFiles = 2;
  opt.fsync = true;
  {
    Journal j;
    REQUIRE(j.open(opt).ok());
    appendPoolChanges(j, 40);
    REQUIRE(j.append(event("stop", "bye")).ok());
  }
  CHECK(fs::exists(opt.path));
  CHECK(fs::exists(opt.path + ".1"));
  CHECK(fs::exists(opt.path + ".2"));
  CHECK_FALSE(fs::exists(opt.path + ".3"));
  for (const std::string& p : {opt.path, opt.path + ".1", opt.path + ".2"}) {
    CHECK(fs::file_size(p) <= opt.rotateBytes);
  }
  auto current = Journal::readAll(opt.path, nullptr);
  REQUIRE(current.ok());
  REQUIRE(!current->empty());
  CHECK(current->front().event == "checkpoint");
  CHECK(current->back().event == "stop");

  // The current file alone recovers the last value, whatever was rotated away.
  fs::remove(opt.path + ".1");
  fs::remove(opt.path + ".2");
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->lastApplied == std::map<std::string, double>{{"pool", 40}});
  REQUIRE(j.append(event("start", "again")).ok());
  auto after = Journal::readAll(opt.path, nullptr);
  REQUIRE(after.ok());
  CHECK(after->back().message == "again");
}

TEST_CASE("keep 0: rotation replaces the file with one that starts with the checkpoint") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  opt.rotateBytes = 2000;
  opt.keepFiles = 0;
  {
    Journal j;
    REQUIRE(j.open(opt).ok());
    appendPoolChanges(j, 40);
  }
  CHECK(fs::file_size(opt.path) <= opt.rotateBytes);
  CHECK_FALSE(fs::exists(opt.path + ".1"));
  CHECK_FALSE(fs::exists(opt.path + ".new"));
  auto records = Journal::readAll(opt.path, nullptr);
  REQUIRE(records.ok());
  REQUIRE(!records->empty());
  CHECK(records->front().event == "checkpoint");
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->lastApplied == std::map<std::string, double>{{"pool", 40}});
}

TEST_CASE("keep 0: a crash before the new file's rename leaves the journal whole, and the leftover is removed") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  opt.keepFiles = 0;
  spit(opt.path, line(decision("pool", 10, 12)) + line(outcome("pool", 10, 12, true)));
  JournalRecord checkpoint = event("checkpoint", "");
  checkpoint.applied = {{"pool", 12}};
  spit(opt.path + ".new", toJsonLine(checkpoint).substr(0, 20));
  Journal j;
  auto rec = j.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->lastApplied == std::map<std::string, double>{{"pool", 12}});
  CHECK_FALSE(rec->tornTail);
  CHECK_FALSE(fs::exists(opt.path + ".new"));
}

// RLIMIT_FSIZE as a full disk: writes past the limit fail with EFBIG (the
// signal that would come with them is ignored meanwhile).
struct FileSizeLimit {
  rlimit saved{};
  void (*savedHandler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0);
    savedHandler = std::signal(SIGXFSZ, SIG_IGN);
    rlimit lowered = saved;
    lowered.rlim_cur = bytes;
    REQUIRE(setrlimit(RLIMIT_FSIZE, &lowered) == 0);
  }
  ~FileSizeLimit() {
    setrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, savedHandler);
  }
};

TEST_CASE("keep 0: a rotation that cannot write the new file (disk full) keeps the old one, and says so") {
  TempDir dir;
  JournalOptions opt;
  opt.path = dir.file("journal.jsonl");
  opt.rotateBytes = 4096;
  opt.keepFiles = 0;
  Status rotated = Status::success();
  std::uintmax_t before = 0;
  {
    Journal j;
    REQUIRE(j.open(opt).ok());
    REQUIRE(j.append(decision("pool", 10, 12)).ok());
    REQUIRE(j.append(outcome("pool", 10, 12, true)).ok());
    while (fs::file_size(opt.path) + 800 <= opt.rotateBytes) REQUIRE(j.append(event("tick", "filler")).ok());
    before = fs::file_size(opt.path);
    // Below a checkpoint's size: the new file cannot be written (nor can
    // the old one grow).
    FileSizeLimit full(64);
    rotated = j.append(event("tick", std::string(900, 'x')));
  }
  REQUIRE_FALSE(rotated.ok());
  CHECK(rotated.error().message.find("rotation failed") != std::string::npos);
  CHECK(rotated.error().message.find("journal.jsonl.new") != std::string::npos);
  CHECK_FALSE(fs::exists(opt.path + ".new"));
  CHECK(fs::file_size(opt.path) >= before);
  Journal again;
  auto rec = again.open(opt);
  REQUIRE(rec.ok());
  CHECK(rec->lastApplied == std::map<std::string, double>{{"pool", 12}});
}

TEST_CASE("readAll of a missing file is an error; an empty path disables the journal") {
  TempDir dir;
  auto missing = Journal::readAll(dir.file("absent.jsonl"), nullptr);
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.error().message.find("absent.jsonl") != std::string::npos);

  Journal off;
  auto rec = off.open(JournalOptions{});
  REQUIRE(rec.ok());
  CHECK_FALSE(off.isOpen());
  CHECK(off.append(event("start", "")).ok());
  CHECK(off.flush().ok());

  Journal bad;
  JournalOptions opt;
  opt.path = dir.file("a-directory");  // a missing directory is created; a directory is not a file
  fs::create_directories(opt.path);
  auto r = bad.open(opt);
  REQUIRE_FALSE(r.ok());
  CHECK(r.error().message.find("a-directory") != std::string::npos);
}

TEST_CASE("formatJournalRecord prints one readable line") {
  JournalRecord d = decision("db_pool_size", 20, 25);
  std::string text = formatJournalRecord(d);
  CHECK(startsWithClock(text));
  CHECK(text.find("pool  db_pool_size 20 -> 25 (proposed 30, max step 5)  apply  waiting clients 12 > 4") !=
        std::string::npos);

  JournalRecord v = decision("db_pool_size", 20, 20, Verdict::Vetoed);
  v.decision.rule = "cooldown 12s left";
  CHECK(formatJournalRecord(v).find("20 -> 20 (proposed 25, cooldown 12s left)  vetoed") != std::string::npos);

  std::string ok = formatJournalRecord(outcome("db_pool_size", 20, 25, true));
  CHECK(ok.find("db_pool_size 25  ok (effective) 12 ms  SET default_pool_size") != std::string::npos);
  std::string failed = formatJournalRecord(outcome("db_pool_size", 20, 25, false));
  CHECK(failed.find("failed after 3 attempts 12 ms  connection refused") != std::string::npos);

  std::string ev = formatJournalRecord(event("reload", "policies/pool.lua"));
  CHECK(startsWithClock(ev));
  CHECK(ev.find("event reload: policies/pool.lua") != std::string::npos);

  // A line read from disk may carry any ts (found by the journal_line fuzz
  // target: 2.4e57 overflowed the cast to time_t).
  for (double ts : {2.4e57, -5.0, 1e300}) {
    JournalRecord far = event("reload", "x");
    far.eventTime = ts;
    CHECK(formatJournalRecord(far).rfind("--:--:-- event reload", 0) == 0);
  }
}

}  // namespace trimtab
