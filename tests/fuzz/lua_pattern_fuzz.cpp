// SPDX-License-Identifier: Apache-2.0
// The sandbox's own pattern matcher (src/policy/lua_pattern.cpp, a rewrite
// of Lua's that can be stopped) against Lua 5.4's: for any subject, pattern
// and init, find, match, gmatch and gsub must give the same results and the
// same errors. Properties: no crash (the rewrite walks raw bytes); byte for
// byte the same output as stock Lua.
//
// Input: byte 0 chooses init (none, or -8..+8), byte 1 the pattern's length;
// the pattern follows, the subject is the rest. Both are kept short, as stock
// Lua's backtracking on a long subject takes exponential time.
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
  if (subject.size() > 32) subject.resize(32);
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
