// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <cstddef>

#include <lua.hpp>

namespace trimtab {

// What lets a loop inside a C function be stopped: `interrupted` is polled
// every few thousand steps, and when it returns true `raise` is called,
// which raises a Lua error and does not return. Neither a hook nor the
// sandbox's CPU watchdog reaches a loop that runs inside one C call.
struct LoopBudget {
  bool (*interrupted)(lua_State* L);
  int (*raise)(lua_State* L);
};

// The budget a library function was installed with: its upvalue 1.
inline const LoopBudget* upvalueBudget(lua_State* L) {
  return static_cast<const LoopBudget*>(lua_touserdata(L, lua_upvalueindex(1)));
}

// Counts the work of one C loop (steps, or bytes compared) and polls the
// budget every 4,096 units of it.
class LoopPoll {
 public:
  LoopPoll(lua_State* L, const LoopBudget* budget) : L_(L), budget_(budget) {}
  void step(std::size_t work = 1) {
    work_ += work;
    if (work_ < kPollEvery) return;
    work_ = 0;
    if (budget_->interrupted(L_)) budget_->raise(L_);
  }

 private:
  static constexpr std::size_t kPollEvery = 4096;
  lua_State* L_;
  const LoopBudget* budget_;
  std::size_t work_ = 0;
};

}  // namespace trimtab
