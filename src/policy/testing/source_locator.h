// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace trimtab {

// Where things are written in a test file's source. Lua tables carry no line
// numbers, so this searches the text: good enough to point a reader at the
// right spot (best effort: a generated name or key is not found).
class SourceLocator {
 public:
  explicit SourceLocator(const std::string& text);
  // The line of `name = "caseName"` (or 'caseName'), or 0 when not found.
  int caseLine(const std::string& caseName) const;
  // The first line at or after `from` where `key =` is written, else `from`.
  int keyLine(int from, const std::string& key) const;

 private:
  std::vector<std::string> lines_;
};

}  // namespace trimtab
