// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_library.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "policy/lua_sandbox.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

// Marks a module whose chunk is running: a require of it meanwhile is a cycle.
char loadingMark;

// Text from outside (a name a policy gave, a path on disk) as it may appear
// in a message: at most `limit` bytes, control bytes and quotes as '?', the
// length when it is longer.
std::string escaped(const char* text, std::size_t length, std::size_t limit) {
  std::string out;
  for (std::size_t i = 0; i < length && i < limit; ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    out += (c < 0x20 || c == 0x7f || c == '\'' || c == '"') ? '?' : static_cast<char>(c);
  }
  if (length > limit) out += "... (" + std::to_string(length) + " bytes)";
  return out;
}

std::string escaped(const std::string& text) { return escaped(text.data(), text.size(), 512); }

// Closes a descriptor on every path out of find().
struct Fd {
  int fd = -1;
  Fd() = default;
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

// The real path of what `fd` refers to (links resolved), or "" when /proc
// cannot tell.
std::string realPathOf(int fd) {
  char real[PATH_MAX];
  std::string self = "/proc/self/fd/" + std::to_string(fd);
  ssize_t n = ::readlink(self.c_str(), real, sizeof real - 1);
  if (n <= 0) return "";
  return std::string(real, static_cast<std::size_t>(n));
}

// Reads up to `size` bytes of `fd` into `text` as luaL_loadfile would see
// them: a UTF-8 byte-order mark dropped, a first line starting with '#'
// skipped with its newline kept (line numbers stay). Returns 0 or errno.
int readChunkText(int fd, std::size_t size, std::string& text) {
  text.assign(size, '\0');
  std::size_t got = 0;
  while (got < text.size()) {
    ssize_t r = ::read(fd, text.data() + got, text.size() - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      text.clear();
      return errno;
    }
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  text.resize(got);
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3);
  if (!text.empty() && text[0] == '#') text.erase(0, std::min(text.find('\n'), text.size()));
  return 0;
}

bool onReadOnlyFilesystem(int fd) {
  struct statvfs fs;
  return ::fstatvfs(fd, &fs) == 0 && (fs.f_flag & ST_RDONLY);
}

}  // namespace

PolicyLibrary::PolicyLibrary(const std::string& policyFile) {
  // The policy's directory, then its parent: spelled like the policy's path
  // (chunk names, coverage), judged by the absolute path.
  fs::path spelled = fs::path(policyFile).parent_path();
  std::error_code ec;
  fs::path absolute = fs::absolute(fs::path(policyFile), ec).lexically_normal().parent_path();
  for (int up = 0; up < 2; ++up) {
    std::string name = (spelled / "lib").lexically_normal().generic_string();
    if ((absolute / "lib") != fs::path("/lib") &&  // the system's
        std::find(directories_.begin(), directories_.end(), name) == directories_.end()) {
      directories_.push_back(name);
    }
    spelled = spelled.empty() ? fs::path("..") : spelled / "..";
    absolute = absolute.parent_path();
  }
  struct stat st;
  if (::stat(policyFile.c_str(), &st) == 0) {
    policyOwner_ = st.st_uid;
    ownerKnown_ = true;
  }
}

bool PolicyLibrary::validName(const char* name, std::size_t length) {
  if (length == 0 || length > kMaxModuleName) return false;
  return std::all_of(name, name + length, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
  });
}

void PolicyLibrary::install(lua_State* L) {
  lua_pushlightuserdata(L, this);
  lua_newtable(L);  // name -> module (or the loading mark)
  lua_pushcclosure(L, &PolicyLibrary::require, 2);
  lua_setglobal(L, "require");
}

bool PolicyLibrary::trusted(const struct stat& st, bool readOnly) const {
  if ((st.st_mode & S_IWOTH) && !readOnly) return false;
  return st.st_uid == 0 || st.st_uid == ::geteuid() || (ownerKnown_ && st.st_uid == policyOwner_);
}

bool PolicyLibrary::watch(const std::string& path) {
  for (const WatchedFile& w : watched_) {
    if (w.path == path) return true;
  }
  if (watched_.size() >= kMaxWatched) return false;
  watched_.push_back({path, FileStamp::of(path)});
  return true;
}

bool PolicyLibrary::find(const char* name) {
  const std::string quoted = std::string("require('") + name + "'): ";
  const std::string base = std::string(name) + ".lua";
  std::string skipped;
  for (const std::string& dir : directories_) {
    std::string file = dir + "/" + base;
    // Stamped before anything is read: a change from now on shows.
    if (!watch(dir) || !watch(file)) {
      message_ = quoted + "more than " + std::to_string(kMaxWatched) + " module paths looked at by one policy";
      return false;
    }
    // The lib entry: a link another user made is not followed.
    struct stat entry;
    if (::lstat(dir.c_str(), &entry) != 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      message_ = quoted + "cannot look at " + escaped(dir) + ": " + std::strerror(errno);
      return false;
    }
    if (S_ISLNK(entry.st_mode) && !trusted(entry, true)) {
      skipped += "; " + escaped(dir) + " skipped: a link that belongs to another user";
      continue;
    }
    Fd lib;
    lib.fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (lib.fd < 0) {
      if (errno == ENOENT || errno == ENOTDIR) continue;
      message_ = quoted + "cannot open " + escaped(dir) + ": " + std::strerror(errno);
      return false;
    }
    struct stat dirStat;
    if (::fstat(lib.fd, &dirStat) != 0) {
      message_ = quoted + "cannot look at " + escaped(dir) + ": " + std::strerror(errno);
      return false;
    }
    if (!trusted(dirStat, onReadOnlyFilesystem(lib.fd))) {
      skipped += "; " + escaped(dir) + " skipped: others can write to it, or it belongs to another user";
      continue;
    }
    auto refuse = [&](const std::string& why) {
      message_ = quoted + "refused " + escaped(file) + ": " + why;
      return false;
    };
    // Only a regular file is opened (a device is not even opened); the
    // check is made again on what was opened.
    struct stat st;
    if (::fstatat(lib.fd, base.c_str(), &st, 0) != 0) {
      if (errno == ENOENT) continue;
      return refuse(std::strerror(errno));
    }
    if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
    Fd in;
    in.fd = ::openat(lib.fd, base.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (in.fd < 0) return refuse(std::strerror(errno));
    if (::fstat(in.fd, &st) != 0) return refuse(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
    if (!trusted(st, onReadOnlyFilesystem(in.fd))) return refuse("others can write to it, or it belongs to another user");
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxModuleBytes) {
      return refuse("larger than " + std::to_string(kMaxModuleBytes) + " bytes");
    }
    // What was opened, links resolved, must lie inside the lib/ directory's
    // own tree. Without /proc: the canonical path, if it is the same file.
    std::string root = realPathOf(lib.fd);
    std::string real = realPathOf(in.fd);
    std::error_code ec;
    if (root.empty()) root = fs::canonical(dir, ec).generic_string();
    if (real.empty()) {
      fs::path canonical = fs::canonical(file, ec);
      struct stat named;
      if (!ec && ::stat(canonical.c_str(), &named) == 0 && named.st_dev == st.st_dev && named.st_ino == st.st_ino) {
        real = canonical.generic_string();
      }
    }
    if (root.empty() || real.empty()) return refuse("cannot tell where it leads");
    if (real.compare(0, root.size() + 1, root + "/") != 0) {
      return refuse("it leads outside " + escaped(dir) + " (to " + escaped(real) + ")");
    }
    if (int err = readChunkText(in.fd, static_cast<std::size_t>(st.st_size), text_)) {
      return refuse(std::string("read failed: ") + std::strerror(err));
    }
    found_ = file;
    chunkName_ = "@" + file;
    return true;
  }
  if (directories_.empty()) {
    message_ = quoted + "no lib/ directory to search (the policy is at the filesystem's root)";
    return false;
  }
  message_ = quoted + "no module " + base + " in " + escaped(directories_[0]);
  if (directories_.size() > 1) message_ += " or " + escaped(directories_[1]);
  message_ += skipped;
  return false;
}

Result<PolicyLibrary::Module> PolicyLibrary::read(const std::string& name) {
  if (!validName(name.c_str(), name.size())) return makeError("not a module name: " + escaped(name));
  if (!find(name.c_str())) return makeError(message_);
  Module module{found_, std::move(text_)};
  text_.clear();
  return module;
}

// No C++ object with a destructor is alive across a call that can raise:
// strings are members, built before any such call.
int PolicyLibrary::require(lua_State* L) {
  PolicyLibrary& self = *static_cast<PolicyLibrary*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int loaded = lua_upvalueindex(2);
  std::size_t length = 0;
  const char* name = luaL_checklstring(L, 1, &length);
  if (!validName(name, length)) {
    self.message_ = "require('" + escaped(name, length, kMaxModuleName) +
                    "'): a module name is lower-case letters, digits and '_', at most 64 "
                    "(it names lib/NAME.lua beside the policy)";
    return luaL_error(L, "%s", self.message_.c_str());
  }
  lua_settop(L, 1);
  lua_pushvalue(L, 1);
  lua_rawget(L, loaded);
  if (lua_touserdata(L, -1) == &loadingMark) {
    return luaL_error(L, "require('%s'): the module requires itself (directly or through others)", name);
  }
  if (!lua_isnil(L, -1)) return 1;
  lua_pop(L, 1);
  if (!self.find(name)) return luaL_error(L, "%s", self.message_.c_str());
  LuaSandbox::of(L).addChunkFile(self.found_);
  const int loadStatus = luaL_loadbufferx(L, self.text_.data(), self.text_.size(), self.chunkName_.c_str(), "t");
  self.text_.clear();
  self.text_.shrink_to_fit();
  if (loadStatus != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_pushlightuserdata(L, &loadingMark);
  lua_rawset(L, loaded);
  lua_pushvalue(L, 1);
  const int status = lua_pcall(L, 1, 1, 0);
  if (status != LUA_OK) {
    lua_pushvalue(L, 1);  // forget the mark, so that a later require tries again
    lua_pushnil(L);
    lua_rawset(L, loaded);
    return lua_error(L);
  }
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_pushboolean(L, 1);
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, loaded);
  return 1;
}

}  // namespace trimtab
