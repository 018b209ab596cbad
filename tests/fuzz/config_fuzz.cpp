// SPDX-License-Identifier: Apache-2.0
// A trimtab.yaml as an operator might mistype it. Properties: no crash and
// no escaping exception (YAML bombs, deep nesting, odd scalars included);
// every problem names the file, a line inside it (or none), and what is
// wrong, so `trimtab check` can print it.
#include <algorithm>
#include <memory>
#include <string>

#include "common/config_node.h"
#include "controller/config.h"
#include "fuzz_check.h"

using namespace trimtab;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(fuzz::asText(data, size));
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  (void)loadConfigString(text, "fuzz.yaml", diagnostics);
  const int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 2;
  for (const auto& d : diagnostics->items()) {
    FUZZ_CHECK(d.file == "fuzz.yaml", "a problem names the file");
    FUZZ_CHECK(d.line >= 0 && d.line <= lines, "a problem names a line of the file");
    FUZZ_CHECK(!d.message.empty(), "a problem says what is wrong");
  }
  return 0;
}
