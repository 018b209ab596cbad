// SPDX-License-Identifier: Apache-2.0
#include "policy/testing/line_coverage.h"

#include <algorithm>

#include "policy/testing/chunk_lines.h"

namespace trimtab {
namespace {

// Lines past this are not counted: no policy is that long, and a bogus line
// number must not make the counter vector huge.
constexpr int kMaxLine = 1'000'000;

}  // namespace

Status LineCoverage::addFile(const std::string& file) {
  if (files_.count(file)) return Status::success();
  return add(file, executableLines(file));
}

Status LineCoverage::addText(const std::string& file, const std::string& text) {
  if (files_.count(file)) return Status::success();
  return add(file, executableLinesOfText(text, file));
}

Status LineCoverage::add(const std::string& file, Result<std::vector<int>> lines) {
  if (!lines.ok()) return lines.error();
  Counts& counts = files_[file];
  counts.executable = std::move(*lines);
  counts.hits.assign(counts.executable.empty() ? 1 : static_cast<std::size_t>(counts.executable.back()) + 1, 0);
  order_.push_back(file);
  return Status::success();
}

void LineCoverage::drop(const std::string& file) {
  auto it = files_.find(file);
  if (it == files_.end()) return;
  files_.erase(it);
  order_.erase(std::find(order_.begin(), order_.end(), file));
}

void LineCoverage::onLine(const char* source, int line) {
  if (!source || source[0] != '@' || line <= 0 || line > kMaxLine) return;
  auto it = files_.find(std::string_view(source + 1));
  if (it == files_.end()) return;
  std::vector<std::uint64_t>& hits = it->second.hits;
  if (static_cast<std::size_t>(line) >= hits.size()) hits.resize(static_cast<std::size_t>(line) + 1, 0);
  ++hits[static_cast<std::size_t>(line)];
}

LineCoverage::FileReport LineCoverage::report(const std::string& file) const {
  FileReport r;
  r.file = file;
  auto it = files_.find(file);
  if (it == files_.end()) return r;
  const Counts& counts = it->second;
  r.executable = counts.executable;
  for (int line : counts.executable) {
    std::uint64_t n = static_cast<std::size_t>(line) < counts.hits.size() ? counts.hits[static_cast<std::size_t>(line)] : 0;
    r.hits[line] = n;
    if (n > 0) {
      ++r.covered;
    } else {
      r.uncovered.push_back(line);
    }
  }
  if (!r.executable.empty()) r.percent = 100.0 * static_cast<double>(r.covered) / static_cast<double>(r.executable.size());
  return r;
}

std::string LineCoverage::lcov() const {
  std::string out;
  for (const std::string& file : order_) {
    FileReport r = report(file);
    out += "TN:\nSF:" + file + "\n";
    for (const auto& [line, hits] : r.hits) out += "DA:" + std::to_string(line) + "," + std::to_string(hits) + "\n";
    out += "LF:" + std::to_string(r.executable.size()) + "\nLH:" + std::to_string(r.covered) + "\nend_of_record\n";
  }
  return out;
}

std::string LineCoverage::ranges(const std::vector<int>& lines) {
  std::string out;
  for (std::size_t i = 0; i < lines.size();) {
    std::size_t j = i;
    while (j + 1 < lines.size() && lines[j + 1] == lines[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += std::to_string(lines[i]);
    if (j > i) out += "-" + std::to_string(lines[j]);
    i = j + 1;
  }
  return out;
}

}  // namespace trimtab
