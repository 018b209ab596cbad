// SPDX-License-Identifier: Apache-2.0
#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <fstream>
#include <iostream>
#include <thread>

#include "app/commands.h"
#include "controller/config.h"
#include "controller/journal.h"

namespace trimtab {

namespace {

constexpr auto kFollowPoll = std::chrono::milliseconds(250);

struct JournalOptions_ {
  std::string file;
  std::string config;
  std::string knob;
  std::string kind;
  std::size_t lines = 20;
  bool follow = false;
  bool json = false;
};

std::string journalPath(const JournalOptions_& o) {
  if (!o.file.empty()) return o.file;
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  Config c = loadConfig(o.config, diagnostics);
  if (!diagnostics->empty()) {  // an unreadable file, or one whose journal.path may be wrong
    std::cerr << diagnostics->format();
    throw CLI::RuntimeError(1);
  }
  if (c.journal.path.empty()) {
    std::cerr << o.config << ": journal.path is empty (journal disabled)\n";
    throw CLI::RuntimeError(1);
  }
  return c.journal.path;
}

bool selected(const JournalOptions_& o, const JournalRecord& r) {
  if (!o.kind.empty() && r.kind != o.kind) return false;
  if (!o.knob.empty() && r.decision.knob != o.knob) return false;
  return true;
}

void print(const JournalOptions_& o, const JournalRecord& r) {
  std::cout << (o.json ? toJsonLine(r) : formatJournalRecord(r)) << "\n";
}

// Prints the records appended to `path` as they come, until killed. The
// journal rotates by renaming the file to .1 and starting a new one (or a
// file may be truncated): then follow the new file from its start.
[[noreturn]] void follow(const JournalOptions_& o, const std::string& path, std::uint64_t from) {
  std::ifstream in(path);
  in.seekg(static_cast<std::streamoff>(from));
  struct stat opened {};
  ::stat(path.c_str(), &opened);
  std::string partial;
  // Prints the complete lines the stream holds; an unfinished one waits in
  // `partial` for the rest.
  auto printComplete = [&] {
    std::string line;
    while (std::getline(in, line)) {
      if (in.eof()) {
        partial += line;
        break;
      }
      auto rec = fromJsonLine(partial + line);
      partial.clear();
      if (rec.ok() && selected(o, *rec)) print(o, *rec);
    }
    in.clear();
  };
  for (;;) {
    printComplete();
    std::cout.flush();
    std::this_thread::sleep_for(kFollowPoll);
    struct stat now {};
    const bool exists = ::stat(path.c_str(), &now) == 0;
    const auto position = in.tellg();
    const bool rotated = exists && (now.st_ino != opened.st_ino || now.st_dev != opened.st_dev);
    const bool truncated = exists && position > 0 && now.st_size < position;
    // Records appended to the old file during the sleep, before the rename,
    // are still in the open stream: read them before switching (an
    // unfinished last line is lost with the old file).
    if (rotated) printComplete();
    if (rotated || truncated) {
      in.close();
      in.clear();
      in.open(path);
      opened = now;
      partial.clear();
    }
  }
}

}  // namespace

void addJournalCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("journal", "Print the decision journal readably");
  cmd->require_subcommand(1);
  auto o = std::make_shared<JournalOptions_>();
  auto addCommon = [o](CLI::App* sub) {
    auto* group = sub->add_option_group("source");
    group->add_option("-f,--file", o->file, "Journal file (JSON lines)");
    group->add_option("-c,--config", o->config, "Take journal.path from this config");
    group->require_option(1);
    sub->add_option("--knob", o->knob, "Only records about this knob");
    sub->add_option("--kind", o->kind, "Only decision, outcome or event records")
        ->check(CLI::IsMember({"decision", "outcome", "event"}));
    sub->add_flag("--json", o->json, "Print the raw JSON lines");
  };
  auto* show = cmd->add_subcommand("show", "Every record, oldest first");
  addCommon(show);
  auto* tail = cmd->add_subcommand("tail", "The last records; --follow waits for new ones");
  addCommon(tail);
  tail->add_option("-n,--lines", o->lines, "How many records (default 20)")->check(CLI::Range(0, 1'000'000));
  tail->add_flag("--follow", o->follow, "Keep printing records as they are appended (Ctrl-C stops)");

  auto run = [o](bool isTail) {
    std::string path = journalPath(*o);
    std::vector<std::string> warnings;
    std::uint64_t completeBytes = 0;
    auto records = Journal::readAll(path, &warnings, isTail && o->follow ? &completeBytes : nullptr);
    if (!records.ok()) {
      std::cerr << records.error().message << "\n";
      throw CLI::RuntimeError(1);
    }
    for (const auto& w : warnings) std::cerr << "warning: " << w << "\n";
    std::vector<const JournalRecord*> chosen;
    for (const auto& r : *records)
      if (selected(*o, r)) chosen.push_back(&r);
    std::size_t first = (isTail && chosen.size() > o->lines) ? chosen.size() - o->lines : 0;
    for (std::size_t i = first; i < chosen.size(); ++i) print(*o, *chosen[i]);
    if (isTail && o->follow) follow(*o, path, completeBytes);
  };
  show->callback([run] { run(false); });
  tail->callback([run] { run(true); });
}

}  // namespace trimtab
