// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <lua.hpp>

#include "policy/lua_budget.h"

namespace trimtab {

// Replaces find, match, gmatch and gsub in the table at `stringTable` (the
// sandbox's `string`, which is also the strings' __index) with versions
// that take the same Lua 5.4 patterns and give the same results and errors,
// but poll `budget` while matching.
//
// Why: Lua's own matcher backtracks inside one C call, where neither a hook
// nor the sandbox's CPU watchdog can reach it, so a pattern such as
// ("a"):rep(2e4):find(".-.-.-.-.-b") froze the whole controller (no tick, no
// scrape, SIGTERM unanswered) for as long as it ran. `budget` must outlive
// the state.
void installBoundedPatterns(lua_State* L, int stringTable, const LoopBudget* budget);

}  // namespace trimtab
