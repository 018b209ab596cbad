// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <system_error>
#include <vector>

namespace trimtab {

// What a file looked like (modification time and size, or absent); any
// difference means it changed. For hot reload.
struct FileStamp {
  bool exists = false;
  std::filesystem::file_time_type modified{};
  std::uintmax_t size = 0;
  bool operator==(const FileStamp&) const = default;

  static FileStamp of(const std::string& file) {
    FileStamp stamp;
    std::error_code ec;
    stamp.modified = std::filesystem::last_write_time(file, ec);
    if (ec) return FileStamp{};
    stamp.size = std::filesystem::file_size(file, ec);
    if (ec) return FileStamp{};
    stamp.exists = true;
    return stamp;
  }
};

// A file whose change matters (a library module, or where one was looked
// for), as it was when it was looked at.
struct WatchedFile {
  std::string path;
  FileStamp stamp;
};

inline bool anyChanged(const std::vector<WatchedFile>& files) {
  for (const WatchedFile& f : files) {
    if (!(FileStamp::of(f.path) == f.stamp)) return true;
  }
  return false;
}

inline void restamp(std::vector<WatchedFile>& files) {
  for (WatchedFile& f : files) f.stamp = FileStamp::of(f.path);
}

}  // namespace trimtab
