// SPDX-License-Identifier: Apache-2.0
// Lua 5.4 patterns (reference manual, section 6.4.1), matched by backtracking
// as Lua does, so results agree, but with a step counter that polls the
// sandbox's budget. Errors raise with lua_error (a longjmp): nothing here may
// own memory or have a destructor; results are built in luaL_Buffers, whose
// memory the sandbox's cap counts.
#include "policy/lua_pattern.h"

#include <cctype>
#include <cstddef>
#include <cstring>

namespace trimtab {
namespace {

constexpr char kEscape = '%';
constexpr int kMaxCaptures = 32;       // LUA_MAXCAPTURES
constexpr int kMaxDepth = 200;         // recursion of one match, as Lua's MAXCCALLS

constexpr std::ptrdiff_t kOpenCapture = -1;      // "(" seen, ")" not yet
constexpr std::ptrdiff_t kPositionCapture = -2;  // "()"

struct Capture {
  const char* start;
  std::ptrdiff_t length;  // or kOpenCapture, kPositionCapture
};

// One match attempt's state: the subject, the pattern, the captures so far.
struct Matcher {
  lua_State* L;
  LoopPoll poll{nullptr, nullptr};
  const char* subject;
  const char* subjectEnd;
  const char* patternEnd;
  int depth;
  int captures;
  Capture capture[kMaxCaptures];

  void reset() {
    depth = 0;
    captures = 0;
  }

  void step() { poll.step(); }

  // Is the character class letter `cls` (after %) true of `c`?
  static bool classMatches(unsigned char c, unsigned char cls) {
    bool yes;
    switch (std::tolower(cls)) {
      case 'a': yes = std::isalpha(c); break;
      case 'c': yes = std::iscntrl(c); break;
      case 'd': yes = std::isdigit(c); break;
      case 'g': yes = std::isgraph(c); break;
      case 'l': yes = std::islower(c); break;
      case 'p': yes = std::ispunct(c); break;
      case 's': yes = std::isspace(c); break;
      case 'u': yes = std::isupper(c); break;
      case 'w': yes = std::isalnum(c); break;
      case 'x': yes = std::isxdigit(c); break;
      case 'z': yes = c == '\0'; break;  // deprecated, still taken by Lua 5.4
      default: return cls == c;  // %. %% %[ ...: the character itself
    }
    return std::isupper(cls) ? !yes : yes;  // %A is "not %a"
  }

  // `set` points at '[', `close` at its ']'.
  static bool setMatches(unsigned char c, const char* set, const char* close) {
    bool wanted = true;
    const char* p = set + 1;
    if (*p == '^') {
      wanted = false;
      ++p;
    }
    for (; p < close; ++p) {
      if (*p == kEscape) {
        ++p;
        if (classMatches(c, static_cast<unsigned char>(*p))) return wanted;
      } else if (p[1] == '-' && p + 2 < close) {
        if (static_cast<unsigned char>(p[0]) <= c && c <= static_cast<unsigned char>(p[2])) return wanted;
        p += 2;
      } else if (static_cast<unsigned char>(*p) == c) {
        return wanted;
      }
    }
    return !wanted;
  }

  // The end of the single-character class starting at p.
  const char* classEnd(const char* p) {
    const char first = *p++;
    if (first == kEscape) {
      if (p >= patternEnd) luaL_error(L, "malformed pattern (ends with '%%')");
      return p + 1;
    }
    if (first == '[') {
      if (*p == '^') ++p;
      // The set's first character is never its end: "[]]" holds ']'.
      do {
        if (p >= patternEnd) luaL_error(L, "malformed pattern (missing ']')");
        const char c = *p++;
        if (c == kEscape && p < patternEnd) ++p;
      } while (*p != ']');
      return p + 1;
    }
    return p;
  }

  // Does the class [p, end) take the character c?
  static bool single(unsigned char c, const char* p, const char* end) {
    switch (*p) {
      case '.': return true;
      case kEscape: return classMatches(c, static_cast<unsigned char>(p[1]));
      case '[': return setMatches(c, p, end - 1);
      default: return static_cast<unsigned char>(*p) == c;
    }
  }

  bool singleAt(const char* s, const char* p, const char* end) {
    return s < subjectEnd && single(static_cast<unsigned char>(*s), p, end);
  }

  // %bxy at s: the end of the balanced run, or null.
  const char* balanced(const char* s, const char* p) {
    if (p + 1 >= patternEnd) luaL_error(L, "malformed pattern (missing arguments to '%%b')");
    if (s >= subjectEnd || *s != p[0]) return nullptr;
    const char open = p[0], close = p[1];
    int level = 1;
    while (++s < subjectEnd) {
      step();
      if (*s == close) {
        if (--level == 0) return s + 1;
      } else if (*s == open) {
        ++level;
      }
    }
    return nullptr;
  }

  // Back reference %1..%9 at s.
  const char* sameAsCapture(const char* s, char digit) {
    const int index = digit - '1';
    if (index < 0 || index >= captures || capture[index].length == kOpenCapture)
      luaL_error(L, "invalid capture index %%%d", index + 1);
    const std::size_t length = static_cast<std::size_t>(capture[index].length);
    if (static_cast<std::size_t>(subjectEnd - s) >= length && std::memcmp(capture[index].start, s, length) == 0)
      return s + length;
    return nullptr;
  }

  const char* openCapture(const char* s, const char* p, std::ptrdiff_t kind) {
    if (captures >= kMaxCaptures) luaL_error(L, "too many captures");
    capture[captures] = Capture{s, kind};
    ++captures;
    const char* end = match(s, p);
    if (!end) --captures;
    return end;
  }

  const char* closeCapture(const char* s, const char* p) {
    int open = captures - 1;
    while (open >= 0 && capture[open].length != kOpenCapture) --open;
    if (open < 0) luaL_error(L, "invalid pattern capture");
    capture[open].length = s - capture[open].start;
    const char* end = match(s, p);
    if (!end) capture[open].length = kOpenCapture;
    return end;
  }

  // Greedy: take as many as the class allows, then give back one at a time.
  const char* longest(const char* s, const char* p, const char* classEnd) {
    std::ptrdiff_t n = 0;
    while (singleAt(s + n, p, classEnd)) {
      step();
      ++n;
    }
    for (; n >= 0; --n) {
      step();
      if (const char* end = match(s + n, classEnd + 1)) return end;
    }
    return nullptr;
  }

  // Lazy: try the rest first, then take one more.
  const char* shortest(const char* s, const char* p, const char* classEnd) {
    for (;;) {
      step();
      if (const char* end = match(s, classEnd + 1)) return end;
      if (!singleAt(s, p, classEnd)) return nullptr;
      ++s;
    }
  }

  // The end of a match of pattern [p, patternEnd) at s, or null.
  const char* match(const char* s, const char* p) {
    if (++depth > kMaxDepth) luaL_error(L, "pattern too complex");
    const char* end = matchHere(s, p);
    --depth;
    return end;
  }

  const char* matchHere(const char* s, const char* p) {
    for (;;) {
      step();
      if (p == patternEnd) return s;
      switch (*p) {
        case '(':
          if (p + 1 < patternEnd && p[1] == ')') return openCapture(s, p + 2, kPositionCapture);
          return openCapture(s, p + 1, kOpenCapture);
        case ')':
          return closeCapture(s, p + 1);
        case '$':
          if (p + 1 == patternEnd) return s == subjectEnd ? s : nullptr;
          break;  // a '$' elsewhere is itself
        case kEscape:
          if (p[1] == 'b') {
            s = balanced(s, p + 2);
            if (!s) return nullptr;
            p += 4;
            continue;
          }
          if (p[1] == 'f') {
            p += 2;
            if (*p != '[') luaL_error(L, "missing '[' after '%%f' in pattern");
            const char* setEnd = classEnd(p);
            const unsigned char before = s == subject ? '\0' : static_cast<unsigned char>(s[-1]);
            const unsigned char here = s < subjectEnd ? static_cast<unsigned char>(*s) : '\0';
            if (setMatches(before, p, setEnd - 1) || !setMatches(here, p, setEnd - 1)) return nullptr;
            p = setEnd;
            continue;
          }
          if (std::isdigit(static_cast<unsigned char>(p[1]))) {
            s = sameAsCapture(s, p[1]);
            if (!s) return nullptr;
            p += 2;
            continue;
          }
          break;
        default:
          break;
      }
      // A single-character class, maybe with a quantifier.
      const char* end = classEnd(p);
      const char quantifier = end < patternEnd ? *end : '\0';
      if (!singleAt(s, p, end)) {
        if (quantifier == '*' || quantifier == '?' || quantifier == '-') {
          p = end + 1;  // none is fine
          continue;
        }
        return nullptr;
      }
      switch (quantifier) {
        case '?':
          if (const char* whole = match(s + 1, end + 1)) return whole;
          p = end + 1;
          continue;
        case '+': return longest(s + 1, p, end);
        case '*': return longest(s, p, end);
        case '-': return shortest(s, p, end);
        default:
          ++s;
          p = end;
          continue;
      }
    }
  }

  // Capture i of a match [s, e) onto the stack (a position capture as an
  // integer); capture 0 of a pattern without any is the whole match.
  void pushCapture(int i, const char* s, const char* e) {
    if (i >= captures) {
      if (i != 0) luaL_error(L, "invalid capture index %%%d", i + 1);
      lua_pushlstring(L, s, static_cast<std::size_t>(e - s));
      return;
    }
    const Capture& c = capture[i];
    if (c.length == kOpenCapture) luaL_error(L, "unfinished capture");
    if (c.length == kPositionCapture) {
      lua_pushinteger(L, static_cast<lua_Integer>(c.start - subject) + 1);
    } else {
      lua_pushlstring(L, c.start, static_cast<std::size_t>(c.length));
    }
  }

  // Every capture (or the whole match when there are none and s is given).
  int pushCaptures(const char* s, const char* e) {
    const int n = (captures == 0 && s) ? 1 : captures;
    luaL_checkstack(L, n, "too many captures");
    for (int i = 0; i < n; ++i) pushCapture(i, s, e);
    return n;
  }
};

Matcher makeMatcher(lua_State* L, const char* s, std::size_t ls, const char* p, std::size_t lp) {
  Matcher m{};
  m.L = L;
  m.poll = LoopPoll(L, upvalueBudget(L));
  m.subject = s;
  m.subjectEnd = s + ls;
  m.patternEnd = p + lp;
  return m;
}

// A 1-based, possibly negative start position as a 0-based offset (may be
// past the end: callers check).
std::size_t startOffset(lua_Integer pos, std::size_t length) {
  if (pos > 0) return static_cast<std::size_t>(pos) - 1;
  if (pos == 0) return 0;
  if (pos < -static_cast<lua_Integer>(length)) return 0;
  return length - static_cast<std::size_t>(-pos);
}

bool hasSpecials(const char* p, std::size_t lp) {
  for (std::size_t i = 0; i < lp; ++i)
    if (std::strchr("^$*+?.([%-", p[i]) && p[i] != '\0') return true;
  return false;
}

// A plain search compares up to lp bytes at each of up to ls places: with
// both large (("a"):rep(2^20) against ("a"):rep(2^19) .. "b") that is hours
// of memcmp, so the bytes compared count as the loop's work.
const char* findPlain(LoopPoll& poll, const char* s, std::size_t ls, const char* p, std::size_t lp) {
  if (lp == 0) return s;
  if (lp > ls) return nullptr;
  const char* last = s + (ls - lp);
  for (const char* at = s; at <= last; ++at) {
    at = static_cast<const char*>(std::memchr(at, p[0], static_cast<std::size_t>(last - at) + 1));
    if (!at) return nullptr;
    if (std::memcmp(at + 1, p + 1, lp - 1) == 0) return at;
    poll.step(lp);
  }
  return nullptr;
}

// string.find (find = true) and string.match.
int findOrMatch(lua_State* L, bool find) {
  std::size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const std::size_t init = startOffset(luaL_optinteger(L, 3, 1), ls);
  if (init > ls) {
    luaL_pushfail(L);
    return 1;
  }
  if (find && (lua_toboolean(L, 4) || !hasSpecials(p, lp))) {
    LoopPoll poll(L, upvalueBudget(L));
    const char* at = findPlain(poll, s + init, ls - init, p, lp);
    if (!at) {
      luaL_pushfail(L);
      return 1;
    }
    lua_pushinteger(L, static_cast<lua_Integer>(at - s) + 1);
    lua_pushinteger(L, static_cast<lua_Integer>(at - s + static_cast<std::ptrdiff_t>(lp)));
    return 2;
  }
  const bool anchored = lp > 0 && *p == '^';
  if (anchored) {
    ++p;
    --lp;
  }
  Matcher m = makeMatcher(L, s, ls, p, lp);
  const char* at = s + init;
  for (;;) {
    m.reset();
    if (const char* end = m.match(at, p)) {
      if (!find) return m.pushCaptures(at, end);
      lua_pushinteger(L, static_cast<lua_Integer>(at - s) + 1);
      lua_pushinteger(L, static_cast<lua_Integer>(end - s));
      return 2 + m.pushCaptures(nullptr, nullptr);
    }
    if (anchored || at >= m.subjectEnd) break;
    ++at;
    m.step();
  }
  luaL_pushfail(L);
  return 1;
}

int boundedFind(lua_State* L) { return findOrMatch(L, true); }
int boundedMatch(lua_State* L) { return findOrMatch(L, false); }

// gmatch's iteration state, a userdata kept by the iterator (upvalue 4;
// the subject and the pattern are upvalues 2 and 3, so they stay alive).
struct GmatchState {
  std::size_t next;       // offset to try from
  std::ptrdiff_t last;    // end offset of the last match, or -1
};

int gmatchStep(lua_State* L) {
  std::size_t ls = 0, lp = 0;
  const char* s = lua_tolstring(L, lua_upvalueindex(2), &ls);
  const char* p = lua_tolstring(L, lua_upvalueindex(3), &lp);
  auto* state = static_cast<GmatchState*>(lua_touserdata(L, lua_upvalueindex(4)));
  Matcher m = makeMatcher(L, s, ls, p, lp);
  for (std::size_t at = state->next; at <= ls; ++at) {
    m.reset();
    const char* end = m.match(s + at, p);
    if (end && end - s != state->last) {
      state->next = static_cast<std::size_t>(end - s);
      state->last = end - s;
      return m.pushCaptures(s + at, end);
    }
    m.step();
  }
  state->next = ls + 1;
  return 0;
}

int boundedGmatch(lua_State* L) {
  std::size_t ls = 0;
  luaL_checklstring(L, 1, &ls);
  luaL_checkstring(L, 2);
  std::size_t init = startOffset(luaL_optinteger(L, 3, 1), ls);
  if (init > ls) init = ls + 1;
  lua_settop(L, 2);
  auto* state = static_cast<GmatchState*>(lua_newuserdatauv(L, sizeof(GmatchState), 0));
  state->next = init;
  state->last = -1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);  // budget, s, p, state
  lua_pushcclosure(L, gmatchStep, 4);
  return 1;
}

// gsub: appends the replacement of match [s, e) to b; false when the
// replacement was nil or false (the match is kept as it was).
bool addReplacement(Matcher& m, luaL_Buffer& b, const char* s, const char* e, int replType) {
  lua_State* L = m.L;
  switch (replType) {
    case LUA_TFUNCTION: {
      lua_pushvalue(L, 3);
      const int n = m.pushCaptures(s, e);
      lua_call(L, n, 1);
      break;
    }
    case LUA_TTABLE:
      m.pushCapture(0, s, e);
      lua_gettable(L, 3);
      break;
    default: {  // a string (or number): %0..%9 and %%
      std::size_t length = 0;
      const char* text = lua_tolstring(L, 3, &length);
      const char* stop = text + length;
      while (text < stop) {
        const char* escape = static_cast<const char*>(std::memchr(text, kEscape, static_cast<std::size_t>(stop - text)));
        if (!escape) {
          luaL_addlstring(&b, text, static_cast<std::size_t>(stop - text));
          break;
        }
        luaL_addlstring(&b, text, static_cast<std::size_t>(escape - text));
        const char what = escape + 1 < stop ? escape[1] : '\0';
        if (what == kEscape) {
          luaL_addchar(&b, kEscape);
        } else if (what == '0') {
          luaL_addlstring(&b, s, static_cast<std::size_t>(e - s));
        } else if (std::isdigit(static_cast<unsigned char>(what))) {
          m.pushCapture(what - '1', s, e);
          luaL_addvalue(&b);  // a position (an integer) as its digits
        } else {
          luaL_error(L, "invalid use of '%c' in replacement string", kEscape);
        }
        text = escape + 2;
      }
      return true;
    }
  }
  if (!lua_toboolean(L, -1)) {
    lua_pop(L, 1);
    luaL_addlstring(&b, s, static_cast<std::size_t>(e - s));
    return false;
  }
  if (!lua_isstring(L, -1)) return luaL_error(L, "invalid replacement value (a %s)", luaL_typename(L, -1)) != 0;
  luaL_addvalue(&b);
  return true;
}

int boundedGsub(lua_State* L) {
  std::size_t ls = 0, lp = 0;
  const char* s = luaL_checklstring(L, 1, &ls);
  const char* p = luaL_checklstring(L, 2, &lp);
  const int replType = lua_type(L, 3);
  const lua_Integer maxReplacements = luaL_optinteger(L, 4, static_cast<lua_Integer>(ls) + 1);
  luaL_argexpected(L, replType == LUA_TNUMBER || replType == LUA_TSTRING || replType == LUA_TFUNCTION ||
                          replType == LUA_TTABLE,
                   3, "string/function/table");
  const bool anchored = lp > 0 && *p == '^';
  if (anchored) {
    ++p;
    --lp;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  Matcher m = makeMatcher(L, s, ls, p, lp);
  const char* at = s;
  const char* lastEnd = nullptr;
  lua_Integer count = 0;
  bool changed = false;
  while (count < maxReplacements) {
    m.reset();
    const char* end = m.match(at, p);
    if (end && end != lastEnd) {
      ++count;
      changed = addReplacement(m, b, at, end, replType) || changed;
      at = lastEnd = end;
    } else if (at < m.subjectEnd) {
      luaL_addchar(&b, *at++);
    } else {
      break;
    }
    if (anchored) break;
    m.step();
  }
  if (!changed) {
    lua_pushvalue(L, 1);
  } else {
    luaL_addlstring(&b, at, static_cast<std::size_t>(m.subjectEnd - at));
    luaL_pushresult(&b);
  }
  lua_pushinteger(L, count);
  return 2;
}

}  // namespace

void installBoundedPatterns(lua_State* L, int stringTable, const LoopBudget* budget) {
  stringTable = lua_absindex(L, stringTable);
  const luaL_Reg functions[] = {
      {"find", boundedFind}, {"match", boundedMatch}, {"gmatch", boundedGmatch}, {"gsub", boundedGsub}};
  for (const luaL_Reg& f : functions) {
    lua_pushlightuserdata(L, const_cast<LoopBudget*>(budget));
    lua_pushcclosure(L, f.func, 1);
    lua_setfield(L, stringTable, f.name);
  }
}

}  // namespace trimtab
