// SPDX-License-Identifier: Apache-2.0
#include "policy/testing/source_locator.h"

#include <cctype>
#include <sstream>

namespace trimtab {

SourceLocator::SourceLocator(const std::string& text) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines_.push_back(line);
}

int SourceLocator::caseLine(const std::string& caseName) const {
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    for (char quote : {'"', '\''}) {
      std::size_t at = lines_[i].find(quote + caseName + quote);
      if (at != std::string::npos && lines_[i].rfind("name", at) != std::string::npos) return static_cast<int>(i + 1);
    }
  }
  return 0;
}

int SourceLocator::keyLine(int from, const std::string& key) const {
  if (from <= 0 || key.empty()) return from;
  auto identifier = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = static_cast<std::size_t>(from - 1); i < lines_.size(); ++i) {
    const std::string& line = lines_[i];
    for (std::size_t at = line.find(key); at != std::string::npos; at = line.find(key, at + 1)) {
      if (at > 0 && identifier(line[at - 1])) continue;
      std::size_t next = line.find_first_not_of(" \t", at + key.size());
      if (next != std::string::npos && line[next] == '=' && line.compare(next, 2, "==") != 0) {
        return static_cast<int>(i + 1);
      }
    }
  }
  return from;
}

}  // namespace trimtab
