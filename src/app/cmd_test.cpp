// SPDX-License-Identifier: Apache-2.0
// `trimtab test`: unit tests for policies (docs/policy-api.md, "Testing policies").
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>

#include "app/commands.h"
#include "policy/testing/policy_test_runner.h"

namespace trimtab {

void addTestCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "test", "Run the tests of policies: NAME_test.lua beside each NAME.lua (exit code 1 on any failure)");
  auto options = std::make_shared<PolicyTestOptions>();
  auto lcov = std::make_shared<std::string>();
  cmd->add_option("paths", options->paths, "Policy files, test files or directories (default: policies)");
  cmd->add_flag("--coverage", options->coverage, "Line coverage per policy, with the lines never run");
  cmd->add_option("--lcov", *lcov, "Write the coverage as an lcov tracefile (implies --coverage)");
  cmd->add_option("--min-coverage", options->minCoverage,
                  "Fail a policy whose line coverage is under this percentage (implies --coverage)")
      ->check(CLI::Range(0.0, 100.0));
  cmd->add_flag("-v,--verbose", options->verbose, "Also list the test files that passed");
  cmd->callback([options, lcov] {
    setupLogging("text", "warn");
    if (!lcov->empty()) options->coverage = true;
    PolicyTestReport report = runPolicyTests(*options);
    printPolicyTestReport(report, *options, std::cout);
    if (!lcov->empty()) {
      std::ofstream out(*lcov, std::ios::binary | std::ios::trunc);
      out << report.lcov;
      out.close();
      if (!out) {
        std::cerr << "trimtab test: cannot write " << *lcov << "\n";
        throw CLI::RuntimeError(1);
      }
    }
    if (report.exitCode() != 0) throw CLI::RuntimeError(report.exitCode());
  });
}

}  // namespace trimtab
