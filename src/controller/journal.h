// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <cstdio>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "controller/decision.h"

namespace trimtab {

struct JournalOptions {
  std::string path;                    // JSON lines file; "" disables the journal
  bool fsync = false;                  // fsync after every record
  std::uint64_t rotateBytes = 64u << 20;  // rotate to path.1 (path.1 -> path.2 ...) past this size
  int keepFiles = 3;                   // rotated files kept
  bool exclusive = true;               // hold PATH.lock while open (off for the simulator's per-run files)
};

// One journal line. `kind` is "decision" (the governor's verdict) or "outcome"
// (the actuator's result, written when it completes), or "event" (start,
// stop, reload, quarantine, source down/up, and "checkpoint").
//
// JSON fields: ts (decision.time, or eventTime for events), kind; decisions
// and outcomes: policy, knob, proposed, decided, previous, verdict, rule,
// reason, location, inputs [{what, value, stale, missing}]; outcomes also ok,
// effective (absent when unknown), detail, attempts, latency_ms; events:
// event, message, and for "checkpoint" applied {knob: value}. NaN and
// infinite numbers are written as null and read back as NaN.
struct JournalRecord {
  std::string kind = "decision";
  Decision decision;                    // for decision and outcome
  // outcome fields
  std::optional<bool> ok;
  std::optional<bool> effective;
  std::string detail;
  int attempts = 0;
  double actuatorLatency = 0;           // seconds
  // event fields
  double eventTime = 0;
  std::string event;                    // "start", "stop", "reload", ...
  std::string message;
  // event "checkpoint": the last applied value of every knob, written at the
  // head of a fresh file after rotation so recovery never needs older files.
  std::map<std::string, double> applied;
};

std::string toJsonLine(const JournalRecord& record);  // no trailing newline
// Parses one line; Error names what is wrong.
Result<JournalRecord> fromJsonLine(const std::string& line);

// What recovery found in an existing journal.
struct JournalRecovery {
  std::map<std::string, double> lastApplied;  // knob -> last value with a successful outcome
  // knob -> the value of its last Apply decision that has no outcome (trimtab
  // stopped while it ran): the knob's real value is not known.
  std::map<std::string, double> unfinished;
  std::size_t records = 0;
  std::size_t badLines = 0;                   // unparsable lines (reported, skipped)
  bool tornTail = false;                      // the last line had no newline (crash mid-write)
  std::vector<std::string> warnings;          // "journal.jsonl:812: torn last line ignored"
};

// Append-only decision journal (JSON lines).
//
// Every append is flushed to the OS (fflush); with `fsync` it is also synced
// to disk. Recovery counts an outcome with ok=true of an Apply decision; a
// decision whose outcome never arrived does not count. Past `rotateBytes`
// the file is renamed to path.1 (path.1 -> path.2 ..., keeping `keepFiles`)
// and the new file starts with a "checkpoint" event carrying the last applied
// values. With keepFiles 0 the new file is written whole as path.new and
// renamed over the old one, so a crash mid-rotation never leaves a journal
// without the last applied values.
//
// Thread safety: none; the loop thread writes.
class Journal {
 public:
  Journal() = default;
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  // Reads the existing file (if any) for recovery, then opens it for append.
  // A torn last line is truncated away before appending, and reported (if it
  // holds a whole record that only lacks its newline, the record is kept and
  // the newline added). An empty path disables the journal: appends succeed
  // and write nothing. Fails only when the file cannot be read or opened.
  Result<JournalRecovery> open(const JournalOptions& options);
  Status append(const JournalRecord& record);
  Status flush();
  bool isOpen() const { return file_ != nullptr; }

  // Reads every record of a journal file (and reports bad lines, as
  // "file:line: ..." warnings) for `trimtab journal show|tail`. Fails when the
  // file cannot be read. `completeBytes`, when given, receives where the
  // last newline-terminated line ends: `journal tail --follow` goes on from
  // there, so a record appended meanwhile is neither lost nor printed twice
  // (a torn last line is then left out of the records).
  static Result<std::vector<JournalRecord>> readAll(const std::string& path, std::vector<std::string>* warnings,
                                                    std::uint64_t* completeBytes = nullptr);

 private:
  static constexpr const char* kFreshSuffix = ".new";  // keepFiles 0: the next file, before its rename
  Status rotateIfNeeded(std::size_t nextBytes, Seconds now);
  std::string checkpointLine(Seconds now) const;
  Status write(const std::string& line);
  Status lock();
  JournalOptions options_;
  std::FILE* file_ = nullptr;
  // PATH.lock, held (flock) while open: two trimtabs on one journal would
  // drive the same knobs and interleave their records. Beside the journal,
  // not on it, so that a rotation keeps the lock.
  int lockFd_ = -1;
  std::string lockedPath_;
  std::uint64_t size_ = 0;
  std::map<std::string, double> lastApplied_;  // carried into checkpoints
  bool rotationFailed_ = false;  // reported once; retried after the next open()
};

// Human-readable one-line rendering for `trimtab journal` and the demo:
// "12:00:05 pool  db_pool_size 20 -> 25 (proposed 30, max step 5)  apply  waiting clients 12 > 4"
std::string formatJournalRecord(const JournalRecord& record);

}  // namespace trimtab
