// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <lua.hpp>

namespace trimtab {

// A Lua value copied out of a lua_State into plain C++ (a test file's cases,
// a policy's ctx.state), so the test runner reads it without calling into Lua
// and without the longjmp rules that come with that.
struct LuaEntry;

struct LuaValue {
  enum class Type { Nil, Boolean, Number, String, Table, Other };
  Type type = Type::Nil;
  bool boolean = false;
  double number = 0;
  bool integer = false;  // a Lua integer (math.type(x) == "integer")
  std::string text;      // String; for Other the Lua type name ("function")
  // Table entries sorted by key: numbers (ascending), then booleans, then
  // strings (lexicographic). Keys are never tables.
  // (A vector of a struct declared later, not of std::pair: a pair of the
  // incomplete LuaValue is ill-formed, and clang's libstdc++ check says so.)
  std::vector<LuaEntry> entries;

  bool isNil() const { return type == Type::Nil; }
  bool isTable() const { return type == Type::Table; }
  bool isString() const { return type == Type::String; }
  bool isNumber() const { return type == Type::Number; }
  bool isBoolean() const { return type == Type::Boolean; }
  // The entry under a string key, or null.
  const LuaValue* get(std::string_view key) const;
  // A table whose keys are exactly 1..n (or that is empty): a list.
  bool isList() const;
  // The list's values in order. REQUIRES: isList().
  std::vector<const LuaValue*> list() const;
  // "string", "number", "table", ... as Lua's type().
  std::string typeName() const;
};

struct LuaEntry {
  LuaValue key;
  LuaValue value;
};

inline constexpr int kMaxLuaValueDepth = 32;
inline constexpr std::size_t kMaxLuaValueEntries = 1'000'000;

// Copies the value at `index` of L. Calls only Lua functions that cannot
// raise (no allocation, no metamethods: tables are read raw), so it may run
// outside a protected call. Values deeper than kMaxLuaValueDepth, past
// kMaxLuaValueEntries entries, functions, userdata and threads become Other.
LuaValue luaValueAt(lua_State* L, int index);

// A short human rendering: 12, "text", true, {a = 1, [2] = "x"}; tables are
// cut at about `maxLength` characters.
std::string describe(const LuaValue& v, std::size_t maxLength = 80);
// How a key appears in a path: ".name", [3], ["odd key"].
std::string keyPath(const LuaValue& key);

// Whether `actual` has everything `expected` has: tables recursively (extra
// keys in actual are fine), numbers within a relative 1e-9, the rest equal.
// On a mismatch returns false with `problem` set to
// "<root>.path: expected X, got Y".
bool subsetMatch(const LuaValue& expected, const LuaValue& actual, const std::string& root,
                 std::string& problem);

// Numbers equal within a relative tolerance of 1e-9 (absolute near zero).
bool nearlyEqual(double a, double b);

}  // namespace trimtab
