// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/metric.h"
#include "common/result.h"
#include "policy/lua_sandbox.h"

namespace trimtab {

// Line coverage of Lua files, counted through a sandbox's line hook.
//
// Thread safety: none.
class LineCoverage final : public LineObserver {
 public:
  struct FileReport {
    std::string file;
    std::vector<int> executable;       // sorted
    std::map<int, std::uint64_t> hits; // executable lines only, 0 when never run
    std::size_t covered = 0;
    double percent = 100;              // of executable lines run at least once
    std::vector<int> uncovered;        // sorted
  };

  // Starts counting `file`, named as the engine loads it (its chunk source
  // without the '@'). Reads its executable lines (see chunk_lines.h).
  // Adding a file twice keeps its counts.
  Status addFile(const std::string& file);
  // The same from the file's text, already read (and checked) by the caller.
  Status addText(const std::string& file, const std::string& text);

  void onLine(const char* source, int line) override;

  // Stops reporting `file` (a no-op for a file not added).
  void drop(const std::string& file);

  // Files in the order they were added.
  const std::vector<std::string>& files() const { return order_; }
  // REQUIRES: `file` was added.
  FileReport report(const std::string& file) const;

  // An lcov tracefile (TN, SF, DA, LF, LH, end_of_record) for every file.
  std::string lcov() const;

  // "17, 23-25" for {17, 23, 24, 25}: runs of consecutive lines as ranges.
  static std::string ranges(const std::vector<int>& lines);

 private:
  Status add(const std::string& file, Result<std::vector<int>> lines);

  struct Counts {
    std::vector<int> executable;
    std::vector<std::uint64_t> hits;  // by line number; any line that ran
  };
  std::unordered_map<std::string, Counts, StringHash, std::equal_to<>> files_;
  std::vector<std::string> order_;
};

}  // namespace trimtab
