// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace trimtab {

// A query result as plain text, detached from libpqxx so parsers of server
// answers (SHOW POOLS, pg_stat_activity rows) are tested without a server.
struct PgTable {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;  // nullopt = SQL NULL

  // Index of a column, or -1.
  int column(std::string_view name) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (columns[i] == name) return static_cast<int>(i);
    return -1;
  }
};

}  // namespace trimtab
