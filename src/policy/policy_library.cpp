// SPDX-License-Identifier: Apache-2.0
#include "policy/policy_library.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

namespace trimtab {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kMaxModuleName = 64;

// Marks a module whose chunk is running: a require of it meanwhile is a cycle.
char loadingMark;

}  // namespace

PolicyLibrary::PolicyLibrary(const std::string& policyFile) {
  fs::path dir = fs::path(policyFile).parent_path();
  directories_.push_back((dir / "lib").lexically_normal().generic_string());
  fs::path parent = (dir.empty() ? fs::path("..") : dir / "..").lexically_normal();
  directories_.push_back((parent / "lib").lexically_normal().generic_string());
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

bool PolicyLibrary::find(const char* name) {
  for (const std::string& dir : directories_) {
    std::string file = dir + "/" + name + ".lua";
    std::error_code ec;
    if (fs::is_regular_file(file, ec)) {
      found_ = std::move(file);
      return true;
    }
  }
  message_ = std::string("require('") + name + "'): no module " + name + ".lua in " + directories_[0];
  if (directories_[1] != directories_[0]) message_ += " or " + directories_[1];
  return false;
}

// No C++ object with a destructor is alive across a call that can raise:
// the strings are members, built by find() before any Lua call.
int PolicyLibrary::require(lua_State* L) {
  PolicyLibrary& self = *static_cast<PolicyLibrary*>(lua_touserdata(L, lua_upvalueindex(1)));
  const int loaded = lua_upvalueindex(2);
  std::size_t length = 0;
  const char* name = luaL_checklstring(L, 1, &length);
  if (!validName(name, length)) {
    return luaL_error(L, "require('%s'): a module name is lower-case letters, digits and '_' "
                         "(it names lib/NAME.lua beside the policy)", name);
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
  if (std::find(self.files_.begin(), self.files_.end(), self.found_) == self.files_.end()) {
    self.files_.push_back(self.found_);
  }
  if (luaL_loadfilex(L, self.found_.c_str(), "t") != LUA_OK) return lua_error(L);
  lua_pushvalue(L, 1);
  lua_pushlightuserdata(L, &loadingMark);
  lua_rawset(L, loaded);
  lua_pushvalue(L, 1);
  const int status = lua_pcall(L, 1, 1, 0);
  if (status != LUA_OK || lua_isnil(L, -1)) {
    if (status == LUA_OK) {
      lua_pop(L, 1);
      lua_pushboolean(L, 1);
    } else {
      lua_pushvalue(L, 1);  // forget the mark, so that a later require tries again
      lua_pushnil(L);
      lua_rawset(L, loaded);
      return lua_error(L);
    }
  }
  lua_pushvalue(L, 1);
  lua_pushvalue(L, -2);
  lua_rawset(L, loaded);
  return 1;
}

}  // namespace trimtab
