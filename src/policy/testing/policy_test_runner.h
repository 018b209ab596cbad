// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>
#include <iosfwd>
#include <string>
#include <vector>

namespace trimtab {

// `trimtab test [PATH ...]`: each policy NAME.lua is tested by NAME_test.lua
// beside it. Test files are described in docs/policy-api.md ("Testing
// policies"). A file in a directory named lib/ is a library module
// (require, policy_library.h): it has no tests of its own, and coverage
// counts the lines the policies' cases run in it (a module under the paths
// is reported even when no case ran it; one only beside a tested policy,
// when a case did).
struct PolicyTestOptions {
  // Policy files, test files or directories (searched recursively; entries
  // starting with '.' are skipped). Empty: "policies".
  std::vector<std::string> paths;
  bool coverage = false;    // line coverage per policy
  double minCoverage = 0;   // percent; a policy under it fails (implies coverage); 0: none
  bool verbose = false;     // also an "ok" line per passing test file
};

struct PolicyCoverageReport {
  std::string policy;  // a policy or a library module
  std::size_t executable = 0;
  std::size_t covered = 0;
  double percent = 100;
  std::string uncovered;  // "17, 23-25"
};

struct PolicyTestReport {
  // Each failure once, as printed after "FAIL ": a failing case, a policy
  // without tests, a test file that does not load, a coverage under the
  // minimum. E.g. `policies/x_test.lua: case "grows": expected proposal
  // db_pool_size=12, got db_pool_size=10 (policies/x.lua:42)`.
  std::vector<std::string> failures;
  std::vector<std::string> passedFiles;  // "policies/x_test.lua (4 cases)"
  std::size_t passed = 0;                // cases that passed
  std::vector<PolicyCoverageReport> coverage;  // by file name
  std::string lcov;                      // tracefile, when coverage was on

  std::size_t failed() const { return failures.size(); }
  int exitCode() const { return failures.empty() ? 0 : 1; }
};

// Finds the policies and their tests under `options.paths`, runs every case
// and measures coverage. Relative paths stay relative in every message (and
// in Proposal.location), so output reads like the command line.
PolicyTestReport runPolicyTests(const PolicyTestOptions& options);

// The report as `trimtab test` prints it: FAIL lines, coverage lines, then
// the summary "N passed, N failed" on a line of its own.
void printPolicyTestReport(const PolicyTestReport& report, const PolicyTestOptions& options, std::ostream& out);

}  // namespace trimtab
