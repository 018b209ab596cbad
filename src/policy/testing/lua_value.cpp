// SPDX-License-Identifier: Apache-2.0
#include "policy/testing/lua_value.h"

#include <algorithm>
#include <cmath>
#include <cctype>

#include "common/units.h"

namespace trimtab {
namespace {

constexpr double kRelativeTolerance = 1e-9;

struct Reader {
  lua_State* L;
  std::size_t entries = 0;

  LuaValue other(const char* what) {
    LuaValue v;
    v.type = LuaValue::Type::Other;
    v.text = what;
    return v;
  }

  LuaValue read(int index, int depth) {
    LuaValue v;
    switch (lua_type(L, index)) {
      case LUA_TNIL:
      case LUA_TNONE:
        return v;
      case LUA_TBOOLEAN:
        v.type = LuaValue::Type::Boolean;
        v.boolean = lua_toboolean(L, index) != 0;
        return v;
      case LUA_TNUMBER:
        v.type = LuaValue::Type::Number;
        v.integer = lua_isinteger(L, index) != 0;
        v.number = v.integer ? static_cast<double>(lua_tointeger(L, index)) : lua_tonumber(L, index);
        return v;
      case LUA_TSTRING: {
        std::size_t n = 0;
        const char* s = lua_tolstring(L, index, &n);  // already a string: no conversion, no allocation
        v.type = LuaValue::Type::String;
        v.text.assign(s, n);
        return v;
      }
      case LUA_TTABLE:
        return readTable(index, depth);
      default:
        return other(lua_typename(L, lua_type(L, index)));
    }
  }

  LuaValue readTable(int index, int depth) {
    if (depth >= kMaxLuaValueDepth) return other("table nested too deeply");
    if (!lua_checkstack(L, 3)) return other("table (Lua stack exhausted)");
    index = lua_absindex(L, index);
    LuaValue v;
    v.type = LuaValue::Type::Table;
    lua_pushnil(L);
    while (lua_next(L, index)) {
      if (++entries > kMaxLuaValueEntries) {
        lua_pop(L, 2);
        return other("table with too many entries");
      }
      LuaValue key = read(-2, depth + 1);
      if (key.type != LuaValue::Type::Table && key.type != LuaValue::Type::Other) {
        v.entries.push_back(LuaEntry{std::move(key), read(-1, depth + 1)});
      }
      lua_pop(L, 1);
    }
    std::sort(v.entries.begin(), v.entries.end(), [](const auto& a, const auto& b) {
      auto rank = [](const LuaValue& k) { return k.isNumber() ? 0 : k.isBoolean() ? 1 : 2; };
      if (rank(a.key) != rank(b.key)) return rank(a.key) < rank(b.key);
      if (a.key.isNumber()) return a.key.number < b.key.number;
      if (a.key.isBoolean()) return a.key.boolean < b.key.boolean;
      return a.key.text < b.key.text;
    });
    return v;
  }
};

bool isIdentifier(const std::string& s) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

void appendDescription(const LuaValue& v, std::string& out, std::size_t maxLength) {
  switch (v.type) {
    case LuaValue::Type::Nil:
      out += "nil";
      return;
    case LuaValue::Type::Boolean:
      out += v.boolean ? "true" : "false";
      return;
    case LuaValue::Type::Number:
      out += formatShortest(v.number);
      return;
    case LuaValue::Type::String:
      out += "\"" + v.text + "\"";
      return;
    case LuaValue::Type::Other:
      out += "(" + v.text + ")";
      return;
    case LuaValue::Type::Table:
      break;
  }
  out += "{";
  bool first = true;
  bool list = v.isList();
  for (const auto& [key, value] : v.entries) {
    if (out.size() > maxLength) {
      out += ", ...";
      break;
    }
    if (!first) out += ", ";
    first = false;
    if (!list) {
      std::string k = keyPath(key);
      out += (k[0] == '.' ? k.substr(1) : k) + " = ";
    }
    appendDescription(value, out, maxLength);
  }
  out += "}";
}

}  // namespace

const LuaValue* LuaValue::get(std::string_view key) const {
  for (const auto& [k, v] : entries) {
    if (k.isString() && k.text == key) return &v;
  }
  return nullptr;
}

bool LuaValue::isList() const {
  if (!isTable()) return false;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LuaValue& k = entries[i].key;
    if (!k.isNumber() || k.number != static_cast<double>(i + 1)) return false;
  }
  return true;
}

std::vector<const LuaValue*> LuaValue::list() const {
  std::vector<const LuaValue*> out;
  out.reserve(entries.size());
  for (const auto& [k, v] : entries) out.push_back(&v);
  return out;
}

std::string LuaValue::typeName() const {
  switch (type) {
    case Type::Nil: return "nil";
    case Type::Boolean: return "boolean";
    case Type::Number: return "number";
    case Type::String: return "string";
    case Type::Table: return "table";
    case Type::Other: return text;
  }
  return "?";
}

LuaValue luaValueAt(lua_State* L, int index) {
  Reader reader{L};
  return reader.read(lua_absindex(L, index), 0);
}

std::string describe(const LuaValue& v, std::size_t maxLength) {
  std::string out;
  appendDescription(v, out, maxLength);
  return out;
}

std::string keyPath(const LuaValue& key) {
  if (key.isString()) return isIdentifier(key.text) ? "." + key.text : "[\"" + key.text + "\"]";
  return "[" + describe(key) + "]";
}

bool nearlyEqual(double a, double b) {
  if (a == b) return true;
  if (std::isnan(a) || std::isnan(b)) return false;
  return std::abs(a - b) <= kRelativeTolerance * std::max(1.0, std::max(std::abs(a), std::abs(b)));
}

bool subsetMatch(const LuaValue& expected, const LuaValue& actual, const std::string& root,
                 std::string& problem) {
  if (expected.isTable() && actual.isTable()) {
    for (const auto& [key, value] : expected.entries) {
      const LuaValue* found = nullptr;
      for (const auto& [k, v] : actual.entries) {
        bool same = k.type == key.type &&
                    (k.isNumber() ? k.number == key.number : k.isBoolean() ? k.boolean == key.boolean : k.text == key.text);
        if (same) found = &v;
      }
      static const LuaValue kNil;
      if (!subsetMatch(value, found ? *found : kNil, root + keyPath(key), problem)) return false;
    }
    return true;
  }
  bool same = expected.type == actual.type &&
              (expected.isNumber()    ? nearlyEqual(expected.number, actual.number)
               : expected.isBoolean() ? expected.boolean == actual.boolean
                                      : expected.text == actual.text);
  if (same) return true;
  problem = root + ": expected " + describe(expected) + ", got " + describe(actual);
  return false;
}

}  // namespace trimtab
