// SPDX-License-Identifier: Apache-2.0
// table.insert, remove, move, concat and sort, string.rep and xpcall with
// the results and errors of Lua 5.4's own (ltablib.c, lstrlib.c, lbaselib.c),
// but stoppable by the sandbox's budget (lua_bounded_library.h says why).
#include "policy/lua_bounded_library.h"

#include <climits>
#include <cstddef>

namespace trimtab {
namespace {

enum Access : int { kRead = 1, kWrite = 2, kLength = 4 };

// Lua's rule for the table functions' argument: a table, or a value whose
// metatable has the metamethods the function uses.
void checkTableLike(lua_State* L, int arg, int access) {
  if (lua_type(L, arg) == LUA_TTABLE) return;
  static const struct {
    int flag;
    const char* field;
  } kNeeds[] = {{kRead, "__index"}, {kWrite, "__newindex"}, {kLength, "__len"}};
  if (lua_getmetatable(L, arg)) {
    bool has = true;
    for (const auto& need : kNeeds) {
      if (!(access & need.flag)) continue;
      lua_pushstring(L, need.field);
      has = has && lua_rawget(L, -2) != LUA_TNIL;
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
    if (has) return;
  }
  luaL_checktype(L, arg, LUA_TTABLE);  // the usual "table expected" error
}

lua_Integer lengthOf(lua_State* L, int arg, int access) {
  checkTableLike(L, arg, access | kLength);
  return luaL_len(L, arg);
}

int boundedInsert(lua_State* L) {
  LoopPoll poll(L, upvalueBudget(L));
  const lua_Integer end = static_cast<lua_Integer>(static_cast<lua_Unsigned>(lengthOf(L, 1, kRead | kWrite)) + 1u);
  lua_Integer at = end;
  switch (lua_gettop(L)) {
    case 2:
      break;
    case 3: {
      at = luaL_checkinteger(L, 2);
      luaL_argcheck(L, static_cast<lua_Unsigned>(at) - 1u < static_cast<lua_Unsigned>(end), 2,
                    "position out of bounds");
      for (lua_Integer i = end; i > at; --i) {  // t[i] = t[i - 1], from the top down
        poll.step();
        lua_geti(L, 1, i - 1);
        lua_seti(L, 1, i);
      }
      break;
    }
    default:
      return luaL_error(L, "wrong number of arguments to 'insert'");
  }
  lua_seti(L, 1, at);  // the value, last on the stack
  return 0;
}

int boundedRemove(lua_State* L) {
  LoopPoll poll(L, upvalueBudget(L));
  const lua_Integer size = lengthOf(L, 1, kRead | kWrite);
  lua_Integer at = luaL_optinteger(L, 2, size);
  if (at != size) {
    // Argument #1 in the message, as the built-in says (Lua 5.4's ltablib.c).
    luaL_argcheck(L, static_cast<lua_Unsigned>(at) - 1u <= static_cast<lua_Unsigned>(size), 1,
                  "position out of bounds");
  }
  lua_geti(L, 1, at);  // the result
  for (; at < size; ++at) {  // t[at] = t[at + 1]
    poll.step();
    lua_geti(L, 1, at + 1);
    lua_seti(L, 1, at);
  }
  lua_pushnil(L);
  lua_seti(L, 1, at);
  return 1;
}

int boundedMove(lua_State* L) {
  LoopPoll poll(L, upvalueBudget(L));
  const lua_Integer first = luaL_checkinteger(L, 2);
  const lua_Integer last = luaL_checkinteger(L, 3);
  const lua_Integer to = luaL_checkinteger(L, 4);
  const int target = lua_isnoneornil(L, 5) ? 1 : 5;
  checkTableLike(L, 1, kRead);
  checkTableLike(L, target, kWrite);
  if (last >= first) {
    luaL_argcheck(L, first > 0 || last < LUA_MAXINTEGER + first, 3, "too many elements to move");
    const lua_Integer count = last - first + 1;
    luaL_argcheck(L, to <= LUA_MAXINTEGER - count + 1, 4, "destination wrap around");
    // Overlapping ranges of one table are copied from the end, so nothing
    // is overwritten before it is read.
    const bool forward = to > last || to <= first || (target != 1 && !lua_compare(L, 1, target, LUA_OPEQ));
    for (lua_Integer k = 0; k < count; ++k) {
      poll.step();
      const lua_Integer i = forward ? k : count - 1 - k;
      lua_geti(L, 1, first + i);
      lua_seti(L, target, to + i);
    }
  }
  lua_pushvalue(L, target);
  return 1;
}

void addConcatField(lua_State* L, luaL_Buffer& buffer, lua_Integer i) {
  lua_geti(L, 1, i);
  if (!lua_isstring(L, -1)) luaL_error(L, "invalid value (at index %I) in table for 'concat'", static_cast<LUAI_UACINT>(i));
  luaL_addvalue(&buffer);
}

// table.concat: with a C function as __index (table.concat itself, say)
// every field is an empty string that allocates nothing.
int boundedConcat(lua_State* L) {
  LoopPoll poll(L, upvalueBudget(L));
  lua_Integer last = lengthOf(L, 1, kRead);
  std::size_t separatorLength = 0;
  const char* separator = luaL_optlstring(L, 2, "", &separatorLength);
  lua_Integer i = luaL_optinteger(L, 3, 1);
  last = luaL_optinteger(L, 4, last);
  luaL_Buffer buffer;
  luaL_buffinit(L, &buffer);
  for (; i < last; ++i) {
    poll.step();
    addConcatField(L, buffer, i);
    luaL_addlstring(&buffer, separator, separatorLength);
  }
  if (i == last) addConcatField(L, buffer, i);
  luaL_pushresult(&buffer);
  return 1;
}

// table.sort: its quicksort cannot poll, and with C functions as
// metamethods it runs no Lua either. A list longer than the memory cap
// could hold (16 bytes an element) is only metamethods: refused. A real one
// sorts in time n log n of memory the cap bounds.
int boundedSort(lua_State* L) {
  const lua_Integer n = lengthOf(L, 1, kRead | kWrite);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TFUNCTION);  // here, so the message names 'sort'
  const auto maxElements = static_cast<lua_Integer>(lua_tointeger(L, lua_upvalueindex(2)));
  if (n > maxElements) {
    return luaL_error(L, "table.sort: %I elements, more than the memory cap could hold (%I)",
                      static_cast<LUAI_UACINT>(n), static_cast<LUAI_UACINT>(maxElements));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 0);
  return 0;
}

// string.rep: only an empty string with an empty separator loops without
// allocating; every other call's loop fills memory the cap bounds.
int boundedRep(lua_State* L) {
  std::size_t length = 0, separator = 0;
  luaL_checklstring(L, 1, &length);
  const lua_Integer count = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &separator);
  if (count <= 0 || length + separator == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  // Here, not in the built-in: its message would carry this wrapper's
  // position instead of the policy's line. The built-in's limit (lstrlib.c's
  // MAXSIZE): results fit in an int.
  constexpr std::size_t kMaxSize = static_cast<std::size_t>(INT_MAX);
  if (length + separator < length || length + separator > kMaxSize / static_cast<std::size_t>(count))
    return luaL_error(L, "resulting string too large");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

// The message handler xpcall gets: the policy's, unless the budget is
// exceeded (the error then comes from the budget's hook, where a loop in
// the policy's handler could not be interrupted).
int guardedHandler(lua_State* L) {
  const auto* budget = static_cast<const LoopBudget*>(lua_touserdata(L, lua_upvalueindex(2)));
  if (budget->interrupted(L)) return lua_gettop(L) > 0 ? 1 : 0;
  const int base = lua_gettop(L);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, base, LUA_MULTRET);
  return lua_gettop(L);
}

// What xpcall returns once the call ended, at once or after yields (the
// continuation keeps yields across it working, as in the built-in).
int finishXpcall(lua_State* L, int status, lua_KContext extra) {
  if (status != LUA_OK && status != LUA_YIELD) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);  // the error, from the handler
    return 2;
  }
  return lua_gettop(L) - static_cast<int>(extra);
}

// Lua 5.4's xpcall (lbaselib.c), with the handler guarded.
int boundedXpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);  // as the built-in: "bad argument #2 to 'xpcall'"
  lua_pushvalue(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));  // the budget
  lua_pushcclosure(L, guardedHandler, 2);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);  // the first result
  lua_pushvalue(L, 1);    // the function
  lua_rotate(L, 3, 2);    // both below the function's arguments
  const int status = lua_pcallk(L, n - 2, LUA_MULTRET, 2, 2, finishXpcall);
  return finishXpcall(L, status, 2);
}

void replaceField(lua_State* L, const char* table, const char* name, lua_CFunction fn, const LoopBudget* budget,
                  bool keepOriginal) {
  lua_getglobal(L, table);
  if (keepOriginal) lua_getfield(L, -1, name);
  lua_pushlightuserdata(L, const_cast<LoopBudget*>(budget));
  if (keepOriginal) {
    lua_pushcclosure(L, fn, 2);  // upvalue 1: the original, 2: the budget
  } else {
    lua_pushcclosure(L, fn, 1);  // upvalue 1: the budget
  }
  lua_setfield(L, -2, name);
  lua_pop(L, 1);
}

}  // namespace

void installBoundedLibrary(lua_State* L, const LoopBudget* budget, std::size_t memoryCapBytes) {
  replaceField(L, LUA_TABLIBNAME, "insert", boundedInsert, budget, false);
  replaceField(L, LUA_TABLIBNAME, "remove", boundedRemove, budget, false);
  replaceField(L, LUA_TABLIBNAME, "move", boundedMove, budget, false);
  replaceField(L, LUA_TABLIBNAME, "concat", boundedConcat, budget, false);
  lua_getglobal(L, LUA_TABLIBNAME);
  lua_getfield(L, -1, "sort");
  lua_pushinteger(L, static_cast<lua_Integer>(memoryCapBytes / 16));
  lua_pushcclosure(L, boundedSort, 2);  // upvalue 1: the built-in, 2: the longest list
  lua_setfield(L, -2, "sort");
  lua_pop(L, 1);
  replaceField(L, LUA_STRLIBNAME, "rep", boundedRep, budget, true);
  // xpcall is a global, not a library field.
  lua_pushlightuserdata(L, const_cast<LoopBudget*>(budget));
  lua_pushcclosure(L, boundedXpcall, 1);
  lua_setglobal(L, "xpcall");
}

}  // namespace trimtab
