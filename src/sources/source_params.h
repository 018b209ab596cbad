// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <filesystem>
#include <string>

#include "common/config_node.h"
#include "common/result.h"
#include "sources/metric_source.h"

namespace trimtab {

// Helpers shared by source factories: every getter of ConfigNode records its
// own diagnostics, so a factory marks the count before reading its keys and
// fails if any were added while it read them.
class ParamsCheck {
 public:
  explicit ParamsCheck(ConfigNode& params) : params_(params), before_(count()) {}

  bool failed() const { return count() > before_; }

  // "source 'web': trimtab.yaml:7:5: sources[0].url: missing required key; ..."
  Error error(const SourceSpec& spec) const {
    std::string message = "source '" + spec.name + "': invalid settings";
    if (auto d = params_.diagnosticsPtr()) {
      const auto& items = d->items();
      for (std::size_t i = before_; i < items.size(); ++i) {
        message += (i == before_ ? ": " : "; ") + items[i].format();
      }
    }
    return makeError(message);
  }

  // A relative path in a config file is relative to that file's directory.
  std::string resolvePath(const std::string& path) const {
    if (path.empty() || std::filesystem::path(path).is_absolute()) return path;
    auto dir = std::filesystem::path(params_.file()).parent_path();
    return dir.empty() ? path : (dir / path).string();
  }

 private:
  std::size_t count() const {
    auto d = params_.diagnosticsPtr();
    return d ? d->items().size() : 0;
  }

  ConfigNode& params_;
  std::size_t before_;
};

}  // namespace trimtab
