// SPDX-License-Identifier: Apache-2.0
// table.insert, table.remove, table.move, string.rep and xpcall with the
// results and errors of Lua 5.4's own (ltablib.c, lstrlib.c, lbaselib.c),
// but stoppable by the sandbox's budget (lua_bounded_library.h says why).
#include "policy/lua_bounded_library.h"

#include <cstddef>

namespace trimtab {
namespace {

enum Access : int { kRead = 1, kWrite = 2, kLength = 4 };

const LoopBudget* budgetOf(lua_State* L) {
  return static_cast<const LoopBudget*>(lua_touserdata(L, lua_upvalueindex(1)));
}

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
  LoopPoll poll(L, budgetOf(L));
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
  LoopPoll poll(L, budgetOf(L));
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
  LoopPoll poll(L, budgetOf(L));
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

int boundedXpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);  // as the built-in: "bad argument #2 to 'xpcall'"
  lua_pushvalue(L, 2);
  lua_pushvalue(L, lua_upvalueindex(2));  // the budget
  lua_pushcclosure(L, guardedHandler, 2);
  lua_replace(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));  // the built-in xpcall
  lua_insert(L, 1);
  lua_call(L, n, LUA_MULTRET);
  return lua_gettop(L);
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

void installBoundedLibrary(lua_State* L, const LoopBudget* budget) {
  replaceField(L, LUA_TABLIBNAME, "insert", boundedInsert, budget, false);
  replaceField(L, LUA_TABLIBNAME, "remove", boundedRemove, budget, false);
  replaceField(L, LUA_TABLIBNAME, "move", boundedMove, budget, false);
  replaceField(L, LUA_STRLIBNAME, "rep", boundedRep, budget, true);
  // xpcall is a global, not a library field.
  lua_getglobal(L, "xpcall");
  lua_pushlightuserdata(L, const_cast<LoopBudget*>(budget));
  lua_pushcclosure(L, boundedXpcall, 2);
  lua_setglobal(L, "xpcall");
}

}  // namespace trimtab
