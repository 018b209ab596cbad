// SPDX-License-Identifier: Apache-2.0
#include "policy/plain_data.h"

#include <cctype>
#include <cstdio>

namespace trimtab {
namespace {

bool isIdentifier(const char* s, std::size_t n) {
  if (n == 0 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  for (std::size_t i = 1; i < n; ++i) {
    if (!(std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_')) return false;
  }
  return true;
}

// Walks one value; `path` grows and shrinks with the descent. Holds only
// references, so a raise out of it leaks nothing.
struct Checker {
  lua_State* L;
  std::string& path;  // on failure: "path: what"
  std::size_t entries = 0;

  bool fail(const char* what) {
    path.append(": ").append(what);
    return false;
  }

  // Appends ".name", ["odd key"], [3] or [true] for the key at `index`.
  bool appendKey(int index) {
    switch (lua_type(L, index)) {
      case LUA_TSTRING: {
        std::size_t n = 0;
        const char* s = lua_tolstring(L, index, &n);
        if (isIdentifier(s, n)) {
          path.append(".").append(s, n);
        } else {
          path.append("[\"").append(s, n).append("\"]");
        }
        return true;
      }
      case LUA_TNUMBER: {
        char buffer[48];
        if (lua_isinteger(L, index)) {
          std::snprintf(buffer, sizeof buffer, "[%lld]", static_cast<long long>(lua_tointeger(L, index)));
        } else {
          std::snprintf(buffer, sizeof buffer, "[%.17g]", lua_tonumber(L, index));
        }
        path.append(buffer);
        return true;
      }
      case LUA_TBOOLEAN:
        path.append(lua_toboolean(L, index) ? "[true]" : "[false]");
        return true;
      default:
        path.append("[?]");
        return fail("a key of this type is not plain data (use strings or numbers)");
    }
  }

  bool walk(int index, int depth) {
    switch (lua_type(L, index)) {
      case LUA_TNIL:
      case LUA_TBOOLEAN:
      case LUA_TNUMBER:
      case LUA_TSTRING:
        return true;
      case LUA_TTABLE:
        break;
      default:
        path.append(": a ").append(luaL_typename(L, index)).append(" is not plain data");
        return false;
    }
    if (depth >= kMaxPlainDepth) return fail("tables nested too deeply (is there a cycle?)");
    if (lua_getmetatable(L, index)) {
      lua_pop(L, 1);
      return fail("a table with a metatable is not plain data");
    }
    luaL_checkstack(L, 3, "checking plain data");
    lua_pushnil(L);
    while (lua_next(L, index)) {
      std::size_t mark = path.size();
      bool ok = ++entries <= kMaxPlainEntries ? appendKey(-2) && walk(lua_absindex(L, -1), depth + 1)
                                                : fail("too many entries");
      if (!ok) {
        lua_pop(L, 2);
        return false;
      }
      path.resize(mark);
      lua_pop(L, 1);
    }
    return true;
  }
};

bool isPlainKey(lua_State* L, int index) {
  int type = lua_type(L, index);
  return type == LUA_TSTRING || type == LUA_TNUMBER || type == LUA_TBOOLEAN;
}

bool isPlainValue(lua_State* L, int index) {
  return isPlainKey(L, index) || lua_type(L, index) == LUA_TTABLE;
}

void copyValue(lua_State* from, int index, lua_State* to, int depth, std::size_t& entries) {
  switch (lua_type(from, index)) {
    case LUA_TBOOLEAN:
      lua_pushboolean(to, lua_toboolean(from, index));
      return;
    case LUA_TNUMBER:
      if (lua_isinteger(from, index)) {
        lua_pushinteger(to, lua_tointeger(from, index));
      } else {
        lua_pushnumber(to, lua_tonumber(from, index));
      }
      return;
    case LUA_TSTRING: {
      std::size_t n = 0;
      const char* s = lua_tolstring(from, index, &n);  // a string already: no conversion
      lua_pushlstring(to, s, n);
      return;
    }
    case LUA_TTABLE:
      break;
    default:
      lua_pushnil(to);
      return;
  }
  lua_newtable(to);
  if (depth >= kMaxPlainDepth || !lua_checkstack(from, 3)) return;
  luaL_checkstack(to, 4, "copying plain data");
  lua_pushnil(from);
  while (lua_next(from, index)) {
    if (++entries > kMaxPlainEntries) {
      lua_pop(from, 2);
      return;
    }
    if (isPlainKey(from, -2) && isPlainValue(from, -1)) {
      copyValue(from, lua_absindex(from, -2), to, depth + 1, entries);
      copyValue(from, lua_absindex(from, -1), to, depth + 1, entries);
      lua_rawset(to, -3);
    }
    lua_pop(from, 1);
  }
}

}  // namespace

bool checkPlainData(lua_State* L, int index, const char* root, std::string& problem) {
  problem.assign(root);  // the path while walking, so nothing here owns memory
  Checker checker{L, problem};
  return checker.walk(lua_absindex(L, index), 0);
}

void copyPlainData(lua_State* from, int fromIndex, lua_State* to) {
  std::size_t entries = 0;
  copyValue(from, lua_absindex(from, fromIndex), to, 0, entries);
}

}  // namespace trimtab
