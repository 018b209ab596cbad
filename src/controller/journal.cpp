// SPDX-License-Identifier: Apache-2.0
#include "controller/journal.h"

#include <fmt/format.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace trimtab {

namespace {

// A file full of garbage must not flood the log: past this many, bad lines
// are only counted.
constexpr std::size_t kMaxLineWarnings = 20;

struct ScanResult {
  std::size_t lines = 0;
  std::size_t badLines = 0;
  bool torn = false;          // the last line had no newline
  bool tornKept = false;      // ...but held a whole record
  std::uint64_t tornOffset = 0;  // where the torn line starts
  std::uint64_t completeBytes = 0;  // where the last terminated line ends
};

// Reads a journal line by line, calling onRecord for every good record.
// Returns false when the file exists but cannot be read.
template <class OnRecord>
bool scan(const std::string& path, std::vector<std::string>& warnings, ScanResult& res,
          OnRecord&& onRecord) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string line;
  std::uint64_t offset = 0;
  std::size_t warned = 0;
  while (std::getline(in, line)) {
    ++res.lines;
    const bool terminated = !in.eof();
    const std::uint64_t start = offset;
    offset += line.size() + (terminated ? 1 : 0);
    if (terminated) res.completeBytes = offset;
    if (line.empty()) continue;
    auto rec = fromJsonLine(line);
    if (!terminated) {
      res.torn = true;
      res.tornOffset = start;
      res.tornKept = rec.ok();
      warnings.push_back(rec.ok() ? fmt::format("{}:{}: last line has no newline (record kept)", path, res.lines)
                                  : fmt::format("{}:{}: torn last line ignored", path, res.lines));
    } else if (!rec.ok()) {
      ++res.badLines;
      if (warned++ < kMaxLineWarnings) {
        warnings.push_back(fmt::format("{}:{}: bad record skipped: {}", path, res.lines, rec.error().message));
      }
    }
    if (rec.ok()) onRecord(std::move(rec.value()));
  }
  if (in.bad()) return false;
  if (warned > kMaxLineWarnings) {
    warnings.push_back(fmt::format("{}: {} more bad records not shown", path, warned - kMaxLineWarnings));
  }
  return true;
}

std::string errnoText() { return std::strerror(errno); }

// Writes `text` as the whole content of `path` and syncs it to disk, so that
// a rename may then put it in place of the journal (`keep: 0` rotation).
Status writeWholeFile(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return makeError(fmt::format("cannot create {}: {}", path, errnoText()));
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::string message = fmt::format("cannot write {}: {}", path, errnoText());
      ::close(fd);
      return makeError(message);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    std::string message = fmt::format("cannot sync {}: {}", path, errnoText());
    ::close(fd);
    return makeError(message);
  }
  if (::close(fd) != 0) return makeError(fmt::format("cannot close {}: {}", path, errnoText()));
  return Status::success();
}

}  // namespace

Journal::~Journal() {
  if (file_) std::fclose(file_);
  if (lockFd_ >= 0) ::close(lockFd_);  // releases the lock
}

Status Journal::lock() {
  // Through symlinks: two paths to one journal must find the same lock.
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(options_.path, ec);
  const std::string path = (ec ? options_.path : canonical.string()) + ".lock";
  if (lockFd_ >= 0 && lockedPath_ == path) return Status::success();
  if (lockFd_ >= 0) ::close(lockFd_);
  lockFd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (lockFd_ < 0) return makeError(fmt::format("journal {}: cannot open its lock file {}: {}", options_.path, path, errnoText()));
  if (::flock(lockFd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(lockFd_);
    lockFd_ = -1;
    if (error == EWOULDBLOCK)
      return makeError(fmt::format("journal {} is in use by another trimtab (it holds {}); give each instance its own journal",
                                   options_.path, path));
    return makeError(fmt::format("journal {}: cannot lock {}: {}", options_.path, path, std::strerror(error)));
  }
  lockedPath_ = path;
  return Status::success();
}

Result<JournalRecovery> Journal::open(const JournalOptions& options) {
  if (file_) {
    std::fclose(file_);
    file_ = nullptr;
  }
  options_ = options;
  lastApplied_.clear();
  rotationFailed_ = false;
  JournalRecovery recovery;
  if (options_.path.empty()) return recovery;

  namespace fs = std::filesystem;
  std::error_code ec;
  // A fresh install has no journal directory yet: make it (only the
  // directories, with the process's umask), as a log file's would be.
  if (fs::path parent = fs::path(options_.path).parent_path(); !parent.empty() && !fs::exists(parent, ec)) {
    fs::create_directories(parent, ec);
    if (ec) {
      return makeError(fmt::format("journal {}: cannot create its directory {}: {}", options_.path, parent.string(),
                                   ec.message()));
    }
  }
  // Before reading: another instance may be appending (and its torn tail is
  // not ours to cut).
  if (options_.exclusive) {
    if (Status locked = lock(); !locked.ok()) return locked.error();
  }
  // A `keep: 0` rotation that crashed before its rename left the new file
  // behind; the journal itself is still whole.
  fs::remove(options_.path + kFreshSuffix, ec);
  auto take = [&recovery](const JournalRecord& rec) {
    if (rec.kind == "decision" && rec.decision.verdict == Verdict::Apply) {
      recovery.unfinished[rec.decision.knob] = rec.decision.decided;
    } else if (rec.kind == "outcome") {
      recovery.unfinished.erase(rec.decision.knob);
    }
    if (rec.kind == "outcome" && rec.ok.value_or(false) && rec.decision.verdict == Verdict::Apply) {
      recovery.lastApplied[rec.decision.knob] = rec.decision.decided;
    } else if (rec.kind == "event" && rec.event == "checkpoint") {
      for (const auto& [knob, value] : rec.applied) recovery.lastApplied[knob] = value;
    }
  };
  // The last rotated file first: an apply decided there may have its
  // outcome here, or none (trimtab died while it ran); and this file's
  // checkpoint may be torn (a crash right after a rotation). Its own torn
  // or bad lines are not reported again.
  if (const std::string rotated = options_.path + ".1"; fs::exists(rotated, ec)) {
    std::vector<std::string> ignored;
    ScanResult before;
    (void)scan(rotated, ignored, before, [&](JournalRecord rec) { take(rec); });
  }
  ScanResult scanned;
  if (fs::exists(options_.path, ec)) {
    bool readable = scan(options_.path, recovery.warnings, scanned, [&](JournalRecord rec) {
      ++recovery.records;
      take(rec);
    });
    if (!readable) return makeError(fmt::format("journal {}: cannot read: {}", options_.path, errnoText()));
    recovery.badLines = scanned.badLines;
    recovery.tornTail = scanned.torn;
    if (scanned.torn && !scanned.tornKept) {
      fs::resize_file(options_.path, scanned.tornOffset, ec);
      if (ec) {
        return makeError(fmt::format("journal {}: cannot truncate torn last line: {}", options_.path, ec.message()));
      }
    }
  }

  file_ = std::fopen(options_.path.c_str(), "abe");
  if (!file_) return makeError(fmt::format("journal {}: cannot open for append: {}", options_.path, errnoText()));
  if (scanned.torn && scanned.tornKept && std::fputc('\n', file_) == EOF) {
    return makeError(fmt::format("journal {}: cannot complete last line: {}", options_.path, errnoText()));
  }
  if (Status s = flush(); !s.ok()) return s.error();
  size_ = fs::file_size(options_.path, ec);
  if (ec) size_ = 0;
  lastApplied_ = recovery.lastApplied;
  return recovery;
}

Status Journal::append(const JournalRecord& record) {
  if (options_.path.empty()) return Status::success();
  if (!file_) return makeError(fmt::format("journal {}: not open", options_.path));
  std::string line = toJsonLine(record);
  line.push_back('\n');
  Seconds ts = record.kind == "event" ? record.eventTime : record.decision.time;
  Status rotated = rotateIfNeeded(line.size(), ts);
  if (!file_) return rotated;
  if (Status s = write(line); !s.ok()) {
    if (!rotated.ok()) return makeError(rotated.error().message + "; " + s.error().message);
    return s;
  }
  if (record.kind == "outcome" && record.ok.value_or(false) && record.decision.verdict == Verdict::Apply) {
    lastApplied_[record.decision.knob] = record.decision.decided;
  }
  if (!rotated.ok()) return makeError(rotated.error().message + " (record written to the current file)");
  return Status::success();
}

Status Journal::write(const std::string& line) {
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size()) {
    return makeError(fmt::format("journal {}: write failed: {}", options_.path, errnoText()));
  }
  size_ += line.size();
  return flush();
}

Status Journal::flush() {
  if (!file_) return Status::success();
  if (std::fflush(file_) != 0) {
    return makeError(fmt::format("journal {}: flush failed: {}", options_.path, errnoText()));
  }
  if (options_.fsync && ::fsync(fileno(file_)) != 0) {
    return makeError(fmt::format("journal {}: fsync failed: {}", options_.path, errnoText()));
  }
  return Status::success();
}

Status Journal::rotateIfNeeded(std::size_t nextBytes, Seconds now) {
  if (options_.rotateBytes == 0 || size_ == 0 || size_ + nextBytes <= options_.rotateBytes ||
      rotationFailed_) {
    return Status::success();
  }
  std::fclose(file_);
  file_ = nullptr;
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string& path = options_.path;
  // A failed rotation must not stop the journal: keep appending to the big file.
  auto failed = [&](const std::string& why) -> Status {
    std::string message = fmt::format("journal {}: rotation failed: {}", path, why);
    file_ = std::fopen(path.c_str(), "abe");
    if (!file_) return makeError(message + "; cannot reopen: " + errnoText());
    rotationFailed_ = true;
    return makeError(message);
  };
  const std::string checkpoint = lastApplied_.empty() ? std::string() : checkpointLine(now);
  if (options_.keepFiles <= 0) {
    // Nothing is kept, so the old file is the only copy of the last applied
    // values until the new one holds them: the new file is written whole
    // beside it, then renamed over it (one atomic step), never removed first.
    const std::string fresh = path + kFreshSuffix;
    if (Status written = writeWholeFile(fresh, checkpoint); !written.ok()) {
      fs::remove(fresh, ec);
      return failed(written.error().message);
    }
    if (fs::rename(fresh, path, ec); ec) {
      std::error_code ignored;
      fs::remove(fresh, ignored);
      return failed(fmt::format("rename {}: {}", fresh, ec.message()));
    }
    file_ = std::fopen(path.c_str(), "abe");
    if (!file_) return makeError(fmt::format("journal {}: cannot reopen after rotation: {}", path, errnoText()));
    size_ = checkpoint.size();
    return Status::success();
  }
  // Kept files: from here to the checkpoint's write, path.1 holds everything
  // (recovery reads it first, so a crash in between loses nothing).
  fs::remove(fmt::format("{}.{}", path, options_.keepFiles), ec);
  for (int i = options_.keepFiles - 1; i >= 1; --i) {
    std::string from = fmt::format("{}.{}", path, i);
    if (!fs::exists(from, ec)) continue;
    if (fs::rename(from, fmt::format("{}.{}", path, i + 1), ec); ec) {
      return failed(fmt::format("rename {}: {}", from, ec.message()));
    }
  }
  if (fs::rename(path, path + ".1", ec); ec) return failed(fmt::format("rename to {}.1: {}", path, ec.message()));
  file_ = std::fopen(path.c_str(), "abe");
  if (!file_) return makeError(fmt::format("journal {}: cannot reopen after rotation: {}", path, errnoText()));
  size_ = 0;
  if (checkpoint.empty()) return Status::success();
  return write(checkpoint);
}

std::string Journal::checkpointLine(Seconds now) const {
  JournalRecord checkpoint;
  checkpoint.kind = "event";
  checkpoint.event = "checkpoint";
  checkpoint.message = "last applied values carried over by rotation";
  checkpoint.applied = lastApplied_;
  checkpoint.eventTime = now;
  return toJsonLine(checkpoint) + "\n";
}

Result<std::vector<JournalRecord>> Journal::readAll(const std::string& path, std::vector<std::string>* warnings,
                                                    std::uint64_t* completeBytes) {
  std::vector<std::string> local;
  std::vector<JournalRecord> records;
  ScanResult scanned;
  bool readable = scan(path, warnings ? *warnings : local, scanned,
                       [&](JournalRecord rec) { records.push_back(std::move(rec)); });
  if (!readable) return makeError(fmt::format("journal {}: cannot read: {}", path, errnoText()));
  if (completeBytes) {
    *completeBytes = scanned.completeBytes;
    if (scanned.torn && scanned.tornKept && !records.empty()) records.pop_back();  // read again once complete
  }
  return records;
}

}  // namespace trimtab
