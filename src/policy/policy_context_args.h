// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>

#include <lua.hpp>

#include "common/clock.h"
#include "policy/policy_context.h"

namespace trimtab {

// Argument parsing shared by the ctx read functions (policy_context_reads.cpp)
// and ctx.predict (policy_context_predict.cpp). The check* functions raise a
// Lua error on bad input, so callers must hold no C++ objects that need
// destruction while calling them (Lua is built as C: errors longjmp).

// Reads `metric [, labels]` into c.query() (other fields reset; a nil labels
// argument is skipped). Returns the index of the next argument.
int parseSelector(lua_State* L, PolicyContext& c);

// The string argument `arg` (a metric or knob name: `what`), at most
// kMaxNameBytes long; raises otherwise. Its length in `*length` if given.
const char* checkName(lua_State* L, int arg, const char* what, std::size_t* length = nullptr);

// A duration at `index`: "5m", "250ms" or seconds; positive and finite.
// Returns false with `error` set otherwise. Never raises.
bool toDuration(lua_State* L, int index, Seconds& out, std::string& error);

// toDuration on argument `arg`, raising "bad argument #arg to 'f' (what:
// must be a positive duration)" on failure.
Seconds checkDuration(lua_State* L, PolicyContext& c, int arg, const char* what);

}  // namespace trimtab
