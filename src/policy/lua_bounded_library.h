// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>

#include <lua.hpp>

#include "policy/lua_budget.h"

namespace trimtab {

// Replaces the library functions whose work is not bounded by the memory
// they allocate, in the state's globals, by versions with the same Lua 5.4
// results and errors that `budget` can stop:
// - table.insert, table.remove, table.move and table.concat loop over a
//   length that a __len or a sparse table's border makes as large as 2^62
//   while copying nils or empty strings (a C function as __index: nothing
//   allocated, no Lua run): they poll the budget;
// - table.sort refuses a list longer than `memoryCapBytes` could hold (its
//   quicksort cannot poll; such a list is only metamethods);
// - string.rep("", n) with an empty separator loops n times producing
//   nothing: it returns "" at once;
// - xpcall's message handler runs where the budget's hook raised the error,
//   with hooks off, so a loop in it could never be stopped: once the budget
//   is exceeded the handler is skipped and the error passes unchanged.
// Every other library function's loop is linear in memory the cap bounds,
// calls Lua (where the hook reaches), or is a pattern or plain search
// (lua_pattern.h). `budget` must outlive the state.
void installBoundedLibrary(lua_State* L, const LoopBudget* budget, std::size_t memoryCapBytes);

}  // namespace trimtab
