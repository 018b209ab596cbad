// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>

#include <lua.hpp>

namespace trimtab {

// Plain data is what ctx.state may hold, and what survives a reload: nil,
// booleans, numbers, strings, and tables without metatables whose keys are
// strings, numbers or booleans and whose values are plain data. No functions,
// coroutines or userdata, no cycles.
inline constexpr int kMaxPlainDepth = 32;
inline constexpr std::size_t kMaxPlainEntries = 100'000;

// Checks the value at `index`. On failure returns false with `problem` set to
// e.g. "ctx.state.handler: a function is not plain data" (`root` names the
// value). Cost: one pass over the table.
// REQUIRES: inside LuaSandbox::run (it may raise on stack exhaustion).
bool checkPlainData(lua_State* L, int index, const char* root, std::string& problem);

// Pushes onto `to` a copy of the value at `fromIndex` of `from`: entries that
// are not plain data are skipped, tables deeper than kMaxPlainDepth become
// empty and copying stops after kMaxPlainEntries entries. Nothing that can
// raise is called on `from`; the caller restores `from`'s top afterwards in
// case `to` raised midway.
// REQUIRES: inside LuaSandbox::run of `to`.
void copyPlainData(lua_State* from, int fromIndex, lua_State* to);

}  // namespace trimtab
