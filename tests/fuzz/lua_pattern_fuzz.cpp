// SPDX-License-Identifier: Apache-2.0
// The sandbox's own pattern matcher (src/policy/lua_pattern.cpp, a rewrite
// of Lua's that can be stopped) against Lua 5.4's: for any subject, pattern
// and init, find, match, gmatch and gsub must give the same results and the
// same errors. Properties: no crash (the rewrite walks raw bytes); byte for
// byte the same output as stock Lua.
//
// Input: byte 0 chooses init (none, or -8..+8), byte 1 the pattern's length;
// the pattern follows, the subject is the rest. Both are kept short: with q
// quantifiers a match may backtrack through about C(L + q, q) states of an
// L-byte subject, in stock Lua as in ours (a policy's budget stops ours; the
// reference has none), so more quantifiers get a shorter subject.
#include <algorithm>
#include <string>

#include "../policy/lua_pattern_probe.h"
#include "fuzz_check.h"

using trimtab::testing::PatternProbe;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  static PatternProbe lua(false), ours(true);
  const int initChoice = data[0] % 18;
  const int init = initChoice - 9;
  const std::size_t patternLength = std::min<std::size_t>(data[1] % 24, size - 2);
  const std::string pattern(reinterpret_cast<const char*>(data + 2), patternLength);
  std::string subject(reinterpret_cast<const char*>(data + 2 + patternLength), size - 2 - patternLength);
  const auto quantifiers = std::count_if(pattern.begin(), pattern.end(), [](char c) {
    return c == '*' || c == '+' || c == '-' || c == '?';
  });
  if (quantifiers > 6) return 0;
  subject.resize(std::min<std::size_t>(subject.size(), quantifiers > 3 ? 16 : 32));
  const int* initArg = initChoice == 0 ? nullptr : &init;
  const std::string want = lua.run(subject, pattern, initArg);
  const std::string got = ours.run(subject, pattern, initArg);
  if (got != want) {
    std::fprintf(stderr, "pattern \"%s\" subject \"%s\"\nLua:\n%s\nbounded:\n%s\n", pattern.c_str(), subject.c_str(),
                 want.c_str(), got.c_str());
  }
  FUZZ_CHECK(got == want, "the bounded matcher gives Lua's results and errors");
  return 0;
}
