// SPDX-License-Identifier: Apache-2.0
// A simulator scenario as a capacity engineer might mistype it. Loading
// builds every model once, so odd parameters reach the models' constructors.
// Properties: no crash and no escaping exception; a failed load has at least
// one problem, and each names the file, a line inside it (or none), and what
// is wrong.
#include <algorithm>
#include <memory>
#include <string>

#include "common/config_node.h"
#include "fuzz_check.h"
#include "sim/driver/scenario.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::asText(data, size));
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  auto scenario = sim::loadScenarioString(text, "fuzz.yaml", diagnostics);
  if (!scenario) FUZZ_CHECK(!diagnostics->empty() || !scenario.error().message.empty(), "a failure says why");
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 2;
  for (const auto& d : diagnostics->items()) {
    FUZZ_CHECK(d.file.empty() || d.file == "fuzz.yaml" || d.file.find(".lua") != std::string::npos,
               "a problem names the scenario (or the policy file it is about)");
    FUZZ_CHECK(d.line >= 0 && d.line <= lines, "a problem names a line of the file");
    FUZZ_CHECK(!d.message.empty(), "a problem says what is wrong");
  }
  return 0;
}
