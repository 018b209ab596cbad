// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace trimtab {

// Each subcommand registers its options on the CLI and returns the function
// that runs it (the process exit code).
using CommandRunner = int (*)();

void addRunCommand(CLI::App& app);
void addCheckCommand(CLI::App& app);
void addScrapeCommand(CLI::App& app);
void addJournalCommand(CLI::App& app);
void addSimCommand(CLI::App& app);
void addReplayCommand(CLI::App& app);
void addTestCommand(CLI::App& app);

// Log format and level for the whole process ("text"|"json", "info", ...).
void setupLogging(const std::string& format, const std::string& level);

inline constexpr const char* kTrimtabVersion = "0.1.0";

}  // namespace trimtab
