// SPDX-License-Identifier: Apache-2.0
#include "policy/testing/policy_test_runner.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <ostream>
#include <set>

#include "policy/policy_library.h"
#include "policy/testing/case_runner.h"
#include "policy/testing/line_coverage.h"
#include "policy/testing/test_file.h"

namespace trimtab {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultPath = "policies";
constexpr const char* kTestSuffix = "_test.lua";

bool isTestFile(const std::string& path) { return path.ends_with(kTestSuffix); }

std::string display(const fs::path& p) { return p.lexically_normal().generic_string(); }

std::string policyOf(const std::string& test) {
  return test.substr(0, test.size() - std::string(kTestSuffix).size()) + ".lua";
}

std::string testOf(const std::string& policy) { return policy.substr(0, policy.size() - 4) + kTestSuffix; }

// A library module (lib/NAME.lua, loaded by require; policy_library.h): no
// policy of its own, tested through the policies that require it.
bool inLibrary(const fs::path& p) {
  std::error_code ec;
  fs::path full = fs::absolute(p, ec).lexically_normal();
  return full.parent_path().filename() == "lib";
}

bool hidden(const fs::path& p) {
  std::string name = p.filename().string();
  return !name.empty() && name[0] == '.';
}

// Every policy (with or without a test), library module and orphan test
// file named by the paths; problems (a path that does not exist) go to
// `failures`.
void discover(const std::vector<std::string>& paths, std::set<std::string>& policies,
              std::set<std::string>& libraries, std::set<std::string>& orphanTests,
              std::vector<std::string>& failures) {
  std::set<std::string> tests;
  auto addFile = [&](const fs::path& p) {
    if (p.extension() != ".lua") return;
    std::string file = display(p);
    if (isTestFile(file)) {
      tests.insert(file);
    } else if (inLibrary(file)) {
      libraries.insert(file);
    } else {
      policies.insert(file);
    }
  };
  for (const std::string& path : paths) {
    std::error_code ec;
    fs::file_status status = fs::status(path, ec);
    if (ec || !fs::exists(status)) {
      failures.push_back(display(path) + ": no such file or directory");
      continue;
    }
    if (!fs::is_directory(status)) {
      std::string file = display(path);
      if (fs::path(file).extension() != ".lua") {
        failures.push_back(file + ": not a policy (NAME.lua) or a test file (NAME_test.lua)");
        continue;
      }
      addFile(file);
      if (isTestFile(file)) {
        if (fs::exists(policyOf(file)) && !inLibrary(policyOf(file))) policies.insert(policyOf(file));
      } else if (!inLibrary(file) && fs::exists(testOf(file))) {
        tests.insert(testOf(file));
      }
      continue;
    }
    fs::recursive_directory_iterator it(path, fs::directory_options::skip_permission_denied, ec), end;
    for (; !ec && it != end; it.increment(ec)) {
      if (hidden(it->path())) {
        if (it->is_directory()) it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) addFile(it->path());
    }
    if (ec) failures.push_back(display(path) + ": " + ec.message());
  }
  for (const std::string& test : tests) {
    if (!policies.count(policyOf(test))) orphanTests.insert(test);
  }
}

// Library modules count the lines the policies' cases run in them, under
// the names the policies load them by: every module a tested policy could
// require from its lib/ directories, and every module the paths name, each
// read with require's own checks (PolicyLibrary::read: a module require
// would refuse is not read here either). A module the paths name is
// reported even when no case ran it (0 %: dead code); one only beside a
// tested policy, only if a case ran it. Returns the latter.
std::vector<std::string> registerLibraries(const std::set<std::string>& policies,
                                           const std::set<std::string>& named, LineCoverage& coverage,
                                           std::vector<std::string>& failures) {
  std::set<std::string> seen;  // as the policies name them
  std::vector<std::string> beside;
  auto modulesIn = [](const std::string& dir) {
    std::set<std::string> names;  // sorted, whatever the directory order
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const fs::path& p = it->path();
      std::string stem = p.stem().string();
      if (p.extension() == ".lua" && !isTestFile(p.filename().string()) &&
          PolicyLibrary::validName(stem.c_str(), stem.size())) {
        names.insert(stem);
      }
    }
    return names;
  };
  auto add = [&](PolicyLibrary& library, const std::string& name, bool isNamed) {
    Result<PolicyLibrary::Module> module = library.read(name);
    if (!module.ok() || !seen.insert(module->file).second) return;
    Status added = coverage.addText(module->file, module->text);
    if (!added.ok()) {
      failures.push_back(added.error().message);
    } else if (!isNamed) {
      beside.push_back(module->file);
    }
  };
  for (const std::string& file : named) {
    // As a policy beside the lib/ directory would load it.
    PolicyLibrary library((fs::path(file).parent_path().parent_path() / "_.lua").generic_string());
    add(library, fs::path(file).stem().string(), true);
  }
  for (const std::string& policy : policies) {
    if (!fs::exists(testOf(policy))) continue;
    PolicyLibrary library(policy);
    for (const std::string& dir : library.directories()) {
      for (const std::string& name : modulesIn(dir)) add(library, name, false);
    }
  }
  return beside;
}

std::string percent(double p) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.1f%%", p);
  return buffer;
}

}  // namespace

PolicyTestReport runPolicyTests(const PolicyTestOptions& options) {
  PolicyTestReport report;
  std::vector<std::string> paths = options.paths.empty() ? std::vector<std::string>{kDefaultPath} : options.paths;
  std::set<std::string> policies, libraries, orphans;
  discover(paths, policies, libraries, orphans, report.failures);
  if (policies.empty() && !libraries.empty()) {
    report.failures.push_back(*libraries.begin() + ": no policy to test: library modules are tested through the "
                                                 "policies that require them (name those, or their directory)");
  }
  for (const std::string& test : orphans) {
    report.failures.push_back(test + (inLibrary(test) ? ": a library module has no test file of its own; test it "
                                                         "through a policy that requires it"
                                                       : ": no policy " + policyOf(test) + " beside it"));
  }

  const bool coverageOn = options.coverage || options.minCoverage > 0;
  LineCoverage coverage;
  std::vector<std::string> besideOnly;
  if (coverageOn) besideOnly = registerLibraries(policies, libraries, coverage, report.failures);
  for (const std::string& policy : policies) {
    const std::string test = testOf(policy);
    if (!fs::exists(test)) {
      report.failures.push_back(policy + ": no tests (write " + test + " beside it)");
      continue;
    }
    if (coverageOn) {
      Status added = coverage.addFile(policy);
      if (!added.ok()) {
        report.failures.push_back(added.error().message);
        continue;
      }
    }
    // A policy that does not compile would fail every case the same way: said once.
    PolicySpec plain;
    plain.file = policy;
    if (Status compiles = PolicyEngine::check(plain, PolicyLimits{}); !compiles.ok()) {
      report.failures.push_back(policy + ": the policy does not load: " + compiles.error().message);
      continue;
    }
    Result<std::unique_ptr<TestFile>> loaded = TestFile::load(test);
    if (!loaded.ok()) {
      report.failures.push_back(loaded.error().message);
      continue;
    }
    TestFile& tests = **loaded;
    std::size_t failedBefore = report.failures.size();
    for (const TestCase& c : tests.cases()) {
      CaseResult result = runCase(policy, c, tests, coverageOn ? &coverage : nullptr);
      if (result.passed) {
        ++report.passed;
      } else {
        std::string where = c.line > 0 ? test + ":" + std::to_string(c.line) : test;
        report.failures.push_back(where + ": case \"" + c.name + "\": " + result.message);
      }
    }
    if (report.failures.size() == failedBefore) {
      report.passedFiles.push_back(test + " (" + std::to_string(tests.cases().size()) + " case" +
                                   (tests.cases().size() == 1 ? "" : "s") + ")");
    }
  }

  if (!coverageOn) return report;
  for (const std::string& module : besideOnly) {
    if (coverage.report(module).covered == 0) coverage.drop(module);
  }
  for (const std::string& file : coverage.files()) {
    LineCoverage::FileReport r = coverage.report(file);
    PolicyCoverageReport& c = report.coverage.emplace_back();
    c.policy = file;
    c.executable = r.executable.size();
    c.covered = r.covered;
    c.percent = r.percent;
    c.uncovered = LineCoverage::ranges(r.uncovered);
    if (options.minCoverage > 0 && r.percent + 1e-9 < options.minCoverage) {
      report.failures.push_back(file + ": line coverage " + percent(r.percent) + " is under the minimum of " +
                                percent(options.minCoverage) + " (uncovered: " + c.uncovered + ")");
    }
  }
  std::sort(report.coverage.begin(), report.coverage.end(),
            [](const PolicyCoverageReport& a, const PolicyCoverageReport& b) { return a.policy < b.policy; });
  report.lcov = coverage.lcov();
  return report;
}

void printPolicyTestReport(const PolicyTestReport& report, const PolicyTestOptions& options, std::ostream& out) {
  for (const std::string& f : report.failures) out << "FAIL " << f << "\n";
  if (options.verbose) {
    for (const std::string& f : report.passedFiles) out << "ok   " << f << "\n";
  }
  for (const PolicyCoverageReport& c : report.coverage) {
    char line[64];
    std::snprintf(line, sizeof line, "coverage %6s %4zu/%-4zu ", percent(c.percent).c_str(), c.covered, c.executable);
    out << line << c.policy;
    if (!c.uncovered.empty()) out << "  uncovered: " << c.uncovered;
    out << "\n";
  }
  out << report.passed << " passed, " << report.failed() << " failed\n";
}

}  // namespace trimtab
