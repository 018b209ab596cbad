// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include <lua.hpp>

namespace trimtab {

// require() for policies: Lua code shared between policies, from a library
// directory beside them.
//
// require("name") loads lib/name.lua from the policy file's directory, or
// else from its parent's (so policies/reference/x.lua finds policies/lib/).
// A name is lower-case letters, digits and '_': no path can be spelled, and
// nothing outside those two lib/ directories is reachable. The module runs
// once per policy, in the policy's sandbox (same globals, CPU budget and
// memory cap; text chunks only) with its name as argument; what it returns
// (true for nothing) is what every require of that name returns. A module
// that requires itself, directly or through others, is an error; a module
// that fails to load can be required again.
//
// The files loaded are on record (files()) so that the engine reloads a
// policy when one of them changes and `trimtab test --coverage` counts them.
//
// Thread safety: that of the sandbox it is installed in.
class PolicyLibrary {
 public:
  explicit PolicyLibrary(const std::string& policyFile);
  PolicyLibrary(const PolicyLibrary&) = delete;
  PolicyLibrary& operator=(const PolicyLibrary&) = delete;

  // Sets the global `require` of L. REQUIRES: runs inside the sandbox's
  // protected run (it allocates); this object outlives L.
  void install(lua_State* L);

  // The lib/ directories searched, in order.
  const std::vector<std::string>& directories() const { return directories_; }
  // Every module file loaded, in load order, named as in its chunk name.
  const std::vector<std::string>& files() const { return files_; }

  // Whether `name` is a module name require accepts.
  static bool validName(const char* name, std::size_t length);

 private:
  static int require(lua_State* L);
  // Sets found_ to the module's file, or message_ to why there is none.
  bool find(const char* name);

  std::vector<std::string> directories_;
  std::vector<std::string> files_;
  std::string found_;
  std::string message_;
};

}  // namespace trimtab
