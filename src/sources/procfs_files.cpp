// SPDX-License-Identifier: Apache-2.0
#include "sources/procfs_files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <type_traits>
#include <vector>

namespace trimtab::procfs {

namespace {

constexpr double kKiB = 1024;
constexpr double kMicrosPerSecond = 1e6;

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

// Splits on runs of whitespace; views into `text`.
std::vector<std::string_view> fields(std::string_view text) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && isSpace(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !isSpace(text[i])) ++i;
    if (i > start) out.push_back(text.substr(start, i - start));
  }
  return out;
}

// Every number these files hold is a count, a size, a time or a percentage:
// finite and not negative. from_chars alone would take "-24", "nan" and
// "inf" (found by tests/fuzz/procfs_fuzz.cpp), which no kernel writes.
template <class T>
bool parseNumber(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  if constexpr (std::is_floating_point_v<T>) {
    if (!std::isfinite(out)) return false;
  }
  return !(out < 0);
}

std::string shown(std::string_view s) {
  constexpr std::size_t kShown = 40;
  return "'" + std::string(s.substr(0, kShown)) + (s.size() > kShown ? "...'" : "'");
}

}  // namespace

Result<std::string> readFile(const std::string& path, std::size_t maxBytes, bool* missing) {
  if (missing) *missing = false;
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (missing) *missing = err == ENOENT || err == ESRCH || err == EOPNOTSUPP;
    return makeError("cannot read " + path + ": " + std::strerror(err));
  }
  std::string out;
  constexpr std::size_t kChunk = 4096;
  // Each pass adds up to kChunk bytes or ends; the cap bounds the loop.
  while (out.size() <= maxBytes) {
    std::size_t before = out.size();
    out.resize(before + kChunk);
    ssize_t n = ::read(fd, out.data() + before, kChunk);
    if (n < 0 && errno == EINTR) {
      out.resize(before);
      continue;
    }
    if (n < 0) {
      int err = errno;
      ::close(fd);
      if (missing) *missing = err == ESRCH || err == EOPNOTSUPP;
      return makeError("cannot read " + path + ": " + std::strerror(err));
    }
    out.resize(before + static_cast<std::size_t>(n));
    if (n == 0) break;
  }
  ::close(fd);
  if (out.size() > maxBytes) {
    return makeError("cannot read " + path + ": larger than " + std::to_string(maxBytes) + " bytes");
  }
  return out;
}

Result<ProcStat> parseStat(std::string_view text) {
  // comm (field 2) is in parentheses and may itself hold spaces and ')'.
  auto close = text.rfind(')');
  if (text.find('(') == std::string_view::npos || close == std::string_view::npos) {
    return makeError("expected 'pid (comm) state ...', got " + shown(text));
  }
  auto f = fields(text.substr(close + 1));
  // f[0] is field 3 (state); field N is f[N - 3].
  constexpr std::size_t kUtime = 14 - 3, kStime = 15 - 3, kThreads = 20 - 3, kStart = 22 - 3,
                        kVsize = 23 - 3;
  if (f.size() <= kVsize) {
    return makeError("expected at least 23 fields, got " + std::to_string(f.size() + 2));
  }
  ProcStat st;
  auto bad = [&](const char* name, std::size_t i) {
    return makeError(std::string("field ") + name + " (" + std::to_string(i + 3) + ") is not a number: " +
                     shown(f[i]));
  };
  if (!parseNumber(f[kUtime], st.utimeTicks)) return bad("utime", kUtime);
  if (!parseNumber(f[kStime], st.stimeTicks)) return bad("stime", kStime);
  if (!parseNumber(f[kThreads], st.threads)) return bad("num_threads", kThreads);
  if (!parseNumber(f[kStart], st.startTicks)) return bad("starttime", kStart);
  if (!parseNumber(f[kVsize], st.vsizeBytes)) return bad("vsize", kVsize);
  return st;
}

Result<std::uint64_t> parseStatmResidentPages(std::string_view text) {
  auto f = fields(text);
  std::uint64_t pages = 0;
  if (f.size() < 2 || !parseNumber(f[1], pages)) {
    return makeError("expected 'size resident ...' page counts, got " + shown(text));
  }
  return pages;
}

Result<double> parseMaxOpenFiles(std::string_view text) {
  constexpr std::string_view kKey = "Max open files";
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.substr(0, kKey.size()) != kKey) continue;
    auto f = fields(line.substr(kKey.size()));
    if (f.empty()) break;
    if (f[0] == "unlimited") return INFINITY;
    double soft = 0;
    if (!parseNumber(f[0], soft)) return makeError("'Max open files' soft limit is not a number >= 0: " + shown(f[0]));
    return soft;
  }
  return makeError("no 'Max open files' line");
}

std::optional<double> meminfoBytes(std::string_view text, std::string_view key) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= key.size() || line.substr(0, key.size()) != key || line[key.size()] != ':') continue;
    auto f = fields(line.substr(key.size() + 1));
    double value = 0;
    if (f.empty() || !parseNumber(f[0], value)) return std::nullopt;
    if (f.size() >= 2 && f[1] == "kB") value *= kKiB;
    return value;
  }
  return std::nullopt;
}

Result<Pressure> parsePressure(std::string_view text) {
  Pressure p;
  bool hasSome = false;
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    auto f = fields(text.substr(pos, end - pos));
    pos = end + 1;
    if (f.empty()) continue;
    bool some = f[0] == "some";
    if (!some && f[0] != "full") return makeError("expected a 'some' or 'full' line, got " + shown(f[0]));
    double avg10 = NAN, avg60 = NAN, avg300 = NAN, total = NAN;
    for (std::size_t i = 1; i < f.size(); ++i) {
      auto eq = f[i].find('=');
      if (eq == std::string_view::npos) return makeError("expected key=value, got " + shown(f[i]));
      std::string_view k = f[i].substr(0, eq), v = f[i].substr(eq + 1);
      double* slot = k == "avg10" ? &avg10 : k == "avg60" ? &avg60 : k == "avg300" ? &avg300 : k == "total" ? &total : nullptr;
      if (slot && !parseNumber(v, *slot)) return makeError(std::string(k) + " is not a number >= 0: " + shown(v));
    }
    if (std::isnan(avg10) || std::isnan(avg60) || std::isnan(avg300) || std::isnan(total)) {
      return makeError("'" + std::string(f[0]) + "' line lacks avg10, avg60, avg300 or total");
    }
    if (some) {
      p.someAvg10 = avg10;
      p.someAvg60 = avg60;
      p.someAvg300 = avg300;
      p.someTotalSeconds = total / kMicrosPerSecond;
      hasSome = true;
    } else {
      p.fullAvg10 = avg10;
      p.fullAvg60 = avg60;
      p.fullAvg300 = avg300;
      p.fullTotalSeconds = total / kMicrosPerSecond;
      p.hasFull = true;
    }
  }
  if (!hasSome) return makeError("no 'some' line");
  return p;
}

Result<LoadAvg> parseLoadAvg(std::string_view text) {
  auto f = fields(text);
  LoadAvg l;
  if (f.size() < 3 || !parseNumber(f[0], l.load1) || !parseNumber(f[1], l.load5) || !parseNumber(f[2], l.load15)) {
    return makeError("expected three load averages, got " + shown(text));
  }
  return l;
}

Result<int> parsePid(std::string_view text) {
  std::string_view t = trim(text);
  int pid = 0;
  if (!parseNumber(t, pid) || pid <= 0) return makeError("expected a positive process id, got " + shown(t));
  return pid;
}

std::string cmdlineText(std::string_view raw) {
  std::string out(raw);
  for (char& c : out) {
    if (c == '\0') c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace trimtab::procfs
