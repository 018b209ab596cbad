// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/stat.h>

#include <string>
#include <vector>

namespace trimtab {

// What a file (or directory) looked like: its identity (device, inode),
// size, modification and status-change times, mode and owner, or absent.
// Any difference means it changed: an edit, a swap for another file of the
// same size and time, a chmod or chown (the status-change time moves). For
// hot reload.
struct FileStamp {
  bool exists = false;
  dev_t device = 0;
  ino_t inode = 0;
  off_t size = 0;
  long long modifiedNs = 0;
  long long changedNs = 0;
  mode_t mode = 0;
  uid_t owner = 0;
  bool operator==(const FileStamp&) const = default;

  static FileStamp of(const std::string& file) {
    FileStamp stamp;
    struct stat st;
    if (::stat(file.c_str(), &st) != 0) return stamp;
    stamp.exists = true;
    stamp.device = st.st_dev;
    stamp.inode = st.st_ino;
    stamp.size = st.st_size;
    stamp.modifiedNs = static_cast<long long>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
    stamp.changedNs = static_cast<long long>(st.st_ctim.tv_sec) * 1'000'000'000 + st.st_ctim.tv_nsec;
    stamp.mode = st.st_mode;
    stamp.owner = st.st_uid;
    return stamp;
  }
};

// A file whose change matters (a library module, where one was looked for,
// or a lib/ directory searched), as it was when it was looked at.
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
