// SPDX-License-Identifier: Apache-2.0
// ConfigDiagnostic formatting and the "did you mean" matcher, apart from the
// yaml-cpp code in config_node.cpp.
#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "common/config_node.h"

namespace trimtab {

std::string ConfigDiagnostic::format() const {
  std::string out = file.empty() ? "<config>" : file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  out += ": ";
  if (!path.empty()) out += path + ": ";
  out += message;
  return out;
}

std::string ConfigDiagnostics::format() const {
  // Discovery order mixes passes (unknown keys are found last); file order reads better.
  std::vector<const ConfigDiagnostic*> sorted;
  sorted.reserve(items_.size());
  for (const auto& d : items_) sorted.push_back(&d);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ConfigDiagnostic* a, const ConfigDiagnostic* b) {
    return std::tie(a->file, a->line, a->column) < std::tie(b->file, b->line, b->column);
  });
  std::string out;
  for (const auto* d : sorted) {
    out += d->format();
    out += '\n';
  }
  return out;
}

namespace {

std::size_t editDistance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> previous(b.size() + 1);
  std::vector<std::size_t> current(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    current[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

}  // namespace

std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates) {
  // The distance costs |word| x |candidate|: a policy may pass any string as
  // a name, and this runs in C++, where its CPU budget cannot stop it.
  if (word.size() > kMaxClosestMatchBytes) return {};
  const std::size_t threshold = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t bestDistance = threshold + 1;
  for (const auto& candidate : candidates) {
    // Short words are within distance 2 of almost anything of similar length.
    if (candidate.size() <= 2 && word.size() <= 2 && candidate != word) continue;
    // The distance is at least the difference in length.
    const std::size_t gap = candidate.size() > word.size() ? candidate.size() - word.size() : word.size() - candidate.size();
    if (gap > threshold) continue;
    std::size_t d = editDistance(word, candidate);
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return best;
}

}  // namespace trimtab
