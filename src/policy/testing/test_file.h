// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "policy/lua_sandbox.h"
#include "policy/testing/lua_value.h"
#include "policy/testing/test_spec.h"

namespace trimtab {

// Bounds on running a test file (it may compute its inputs in loops).
inline constexpr Seconds kTestFileCpuBudget = 2;  // CPU seconds
inline constexpr std::size_t kTestFileMemoryCap = 256u << 20;

// A NAME_test.lua, run once in a sandbox of its own (the same restrictions
// as a policy's) and read into cases. The sandbox stays, to match Lua
// patterns (log lines, reasons, errors) and hold copies of ctx.state.
//
// Thread safety: none.
class TestFile {
 public:
  // Errors: the file's Lua error ("file:line: ..."), or a malformed case
  // ("file:line: case \"x\": ...").
  static Result<std::unique_ptr<TestFile>> load(const std::string& file);

  const std::string& file() const { return file_; }
  const std::vector<TestCase>& cases() const { return cases_; }
  LuaSandbox& sandbox() { return *sandbox_; }

  // Whether Lua's string.find(subject, pattern) matches. Error: a malformed
  // pattern ("malformed pattern (ends with '%')").
  Result<bool> find(const std::string& subject, const std::string& pattern);

  // Reads the value the registry holds under `ref` and releases the ref.
  Result<LuaValue> takeRef(int ref);

 private:
  TestFile() = default;
  std::string file_;
  std::unique_ptr<LuaSandbox> sandbox_;
  std::vector<TestCase> cases_;
};

}  // namespace trimtab
