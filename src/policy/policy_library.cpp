// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_library.h"

#include <fcntl.h>
#include <sys/stat.h>
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

// A name as it may appear in a message: at most kMaxModuleName bytes, bytes
// outside [a-z0-9_] as '?', the length when it is longer.
std::string shown(const char* name, std::size_t length) {
  std::string out;
  for (std::size_t i = 0; i < length && i < PolicyLibrary::kMaxModuleName; ++i) {
    char c = name[i];
    bool plain = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '/' ||
                 (c >= 'A' && c <= 'Z') || c == '-';
    out += plain ? c : '?';
  }
  if (length > PolicyLibrary::kMaxModuleName) out += "... (" + std::to_string(length) + " bytes)";
  return out;
}

// Closes a descriptor on every path out of find().
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

PolicyLibrary::PolicyLibrary(const std::string& policyFile) {
  std::error_code ec;
  fs::path file = fs::absolute(fs::path(policyFile), ec);
  fs::path dir = fs::path(policyFile).parent_path();
  directories_.push_back((dir / "lib").lexically_normal().generic_string());
  // The parent's lib/, unless the parent is the root (/lib is the system's).
  fs::path absoluteParent = file.parent_path().lexically_normal().parent_path();
  if (absoluteParent != absoluteParent.root_path()) {
    fs::path parent = (dir.empty() ? fs::path("..") : dir / "..").lexically_normal();
    directories_.push_back((parent / "lib").lexically_normal().generic_string());
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

bool PolicyLibrary::trusted(const struct stat& st) const {
  if (st.st_mode & S_IWOTH) return false;
  return st.st_uid == 0 || st.st_uid == ::geteuid() || (ownerKnown_ && st.st_uid == policyOwner_);
}

void PolicyLibrary::watch(const std::string& path) {
  for (const WatchedFile& w : watched_) {
    if (w.path == path) return;
  }
  watched_.push_back({path, FileStamp::of(path)});
}

bool PolicyLibrary::find(const char* name) {
  std::string skipped;
  for (const std::string& dir : directories_) {
    std::string file = dir + "/" + name + ".lua";
    watch(file);  // before reading: a change from now on shows
    struct stat dirStat;
    if (::stat(dir.c_str(), &dirStat) != 0 || !S_ISDIR(dirStat.st_mode)) continue;
    if (!trusted(dirStat)) {
      skipped += "; " + dir + " skipped: others can write to it, or it belongs to another user";
      continue;
    }
    Fd in;
    in.fd = ::open(file.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (in.fd < 0) {
      if (errno == ENOENT) continue;
      message_ = "require('" + std::string(name) + "'): cannot open " + file + ": " + std::strerror(errno);
      return false;
    }
    auto refuse = [&](const std::string& why) {
      message_ = "require('" + std::string(name) + "'): refused " + file + ": " + why;
      return false;
    };
    struct stat st;
    if (::fstat(in.fd, &st) != 0) return refuse(std::strerror(errno));
    if (!S_ISREG(st.st_mode)) return refuse("not a regular file");
    if (!trusted(st)) return refuse("others can write to it, or it belongs to another user");
    if (static_cast<std::uintmax_t>(st.st_size) > kMaxModuleBytes) {
      return refuse("larger than " + std::to_string(kMaxModuleBytes) + " bytes");
    }
    // The file actually opened, links resolved, must lie inside the lib/
    // directory's own tree.
    char real[PATH_MAX];
    std::string self = "/proc/self/fd/" + std::to_string(in.fd);
    ssize_t n = ::readlink(self.c_str(), real, sizeof real - 1);
    std::error_code ec;
    fs::path root = fs::canonical(dir, ec);
    if (n <= 0 || ec) return refuse("cannot tell where it leads");
    real[n] = '\0';
    std::string inside = root.generic_string() + "/";
    if (std::string_view(real, static_cast<std::size_t>(n)).substr(0, inside.size()) != inside) {
      return refuse("it leads outside " + dir + " (to " + std::string(real) + ")");
    }
    text_.assign(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t got = 0;
    while (got < text_.size()) {
      ssize_t r = ::read(in.fd, text_.data() + got, text_.size() - got);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) break;
      got += static_cast<std::size_t>(r);
    }
    text_.resize(got);
    // As luaL_loadfile: a first line starting with '#' is skipped, its
    // newline kept so that line numbers stay.
    if (!text_.empty() && text_[0] == '#') text_.erase(0, std::min(text_.find('\n'), text_.size()));
    found_ = file;
    chunkName_ = "@" + file;
    return true;
  }
  message_ = "require('" + std::string(name) + "'): no module " + name + ".lua in " + directories_[0];
  if (directories_.size() > 1) message_ += " or " + directories_[1];
  message_ += skipped;
  return false;
}

// No C++ object with a destructor is alive across a call that can raise:
// strings are members, built by find() and shown() before any such call.
int PolicyLibrary::require(lua_State* L) {
  PolicyLibrary& self = *static_cast<PolicyLibrary*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int loaded = lua_upvalueindex(2);
  std::size_t length = 0;
  const char* name = luaL_checklstring(L, 1, &length);
  if (!validName(name, length)) {
    self.message_ = "require('" + shown(name, length) +
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
  if (luaL_loadbufferx(L, self.text_.data(), self.text_.size(), self.chunkName_.c_str(), "t") != LUA_OK) {
    return lua_error(L);
  }
  self.text_.clear();
  self.text_.shrink_to_fit();
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
