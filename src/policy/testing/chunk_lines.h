// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "common/result.h"

namespace trimtab {

// The executable lines of a Lua source file: the lines Lua's line hook can
// ever report, over the main chunk and every function nested in it, sorted.
//
// Why not lua_getinfo(">L"): it sees only functions that exist as values, and
// a closure created inside tick() does not exist until tick runs. So the file
// is compiled (not run) and its binary dump walked: every prototype's line
// info, read as Lua's own collectvalidlines does (Lua 5.4.6 rules: the
// VARARGPREP that opens a vararg function, such as the main chunk, is never
// reported by the hook, so its line does not count).
Result<std::vector<int>> executableLines(const std::string& file);

// The same from source text already in memory; `chunkName` names it in errors.
Result<std::vector<int>> executableLinesOfText(const std::string& text, const std::string& chunkName);

}  // namespace trimtab
