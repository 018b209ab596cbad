// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

#include <lua.hpp>

#include "common/result.h"
#include "policy/file_stamp.h"

namespace trimtab {

// require() for policies: Lua code shared between policies, from a library
// directory beside them.
//
// require("name") loads lib/name.lua from the policy file's directory, or
// else from its parent's (so policies/reference/x.lua finds policies/lib/);
// /lib (the system's) is never searched. A name is lower-case letters,
// digits and '_' (at most 64): no path can be spelled. A module is read
// only when
// - the lib/ directory is trusted: it, and the lib entry itself when it is
//   a symbolic link, belong to root, to the user trimtab runs as or to the
//   policy file's owner, and others cannot write to the directory unless it
//   is on a read-only filesystem (a Kubernetes ConfigMap volume is 0777 but
//   read-only). An untrusted lib/ (a /tmp/lib another user made or linked)
//   is skipped, and the error for a module not found says so;
// - the file is a regular file of at most 1 MiB, with the same owners and
//   no write access for others (unless read-only), whose real path,
//   symbolic links followed, lies inside the lib/ directory's real path (a
//   link within its own tree, as a ConfigMap's ..data, is fine; a link to
//   /etc/passwd is refused before a byte is read). It is opened without
//   blocking (a FIFO is refused, not waited on).
// A module found but refused is an error naming the file and why.
//
// The module runs once per compiled policy, in the policy's sandbox (same
// globals, CPU budget and memory cap; text chunks only) with its name as
// argument; what it returns (true for nothing) is what every require of
// that name returns. A module that requires itself, directly or through
// others, is an error; a module that fails to load can be required again.
//
// Every path looked at (each lib/ directory searched and each module path,
// found or not) is on record with its stamp, taken before it is read
// (watched()): the engine reloads the policy when one changes. At most
// kMaxWatched paths: a policy that asks for more modules than that gets an
// error.
//
// Thread safety: that of the sandbox it is installed in.
class PolicyLibrary {
 public:
  static constexpr std::size_t kMaxModuleName = 64;
  static constexpr std::size_t kMaxModuleBytes = 1 << 20;
  static constexpr std::size_t kMaxWatched = 256;

  explicit PolicyLibrary(const std::string& policyFile);
  PolicyLibrary(const PolicyLibrary&) = delete;
  PolicyLibrary& operator=(const PolicyLibrary&) = delete;

  // Sets the global `require` of L. REQUIRES: runs inside the sandbox's
  // protected run (it allocates); this object outlives L.
  void install(lua_State* L);

  // The lib/ directories searched, in order.
  const std::vector<std::string>& directories() const { return directories_; }
  // Every path looked at, with its stamp then.
  const std::vector<WatchedFile>& watched() const { return watched_; }
  // Takes every watched path's stamp again (after a reload attempt).
  void restamp() { trimtab::restamp(watched_); }

  // What require(name) would load, with every check: {file as named in
  // chunk names, text}, or the error require would raise. For coverage.
  struct Module {
    std::string file;
    std::string text;
  };
  Result<Module> read(const std::string& name);

  // Whether `name` is a module name require accepts.
  static bool validName(const char* name, std::size_t length);

 private:
  static int require(lua_State* L);
  // Sets found_, chunkName_ and text_ to the module's file, name for Lua
  // and text; or message_ to why there is none (then returns false).
  bool find(const char* name);
  // Whether an owner and mode allow reading code (`readOnly`: the
  // filesystem is mounted read-only, so others' write bit is moot).
  bool trusted(const struct stat& st, bool readOnly) const;
  bool watch(const std::string& path);

  std::vector<std::string> directories_;
  std::vector<WatchedFile> watched_;
  uid_t policyOwner_ = 0;
  bool ownerKnown_ = false;
  // Scratch for require(): members, so no C++ object with a destructor is
  // alive across a Lua call that can raise.
  std::string found_;
  std::string chunkName_;
  std::string text_;
  std::string message_;
};

}  // namespace trimtab
