// SPDX-License-Identifier: Apache-2.0
#pragma once

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

// Counts the steps of one C loop and polls the budget every 4,096 of them.
class LoopPoll {
 public:
  LoopPoll(lua_State* L, const LoopBudget* budget) : L_(L), budget_(budget) {}
  void step() {
    if ((++steps_ & 4095u) == 0 && budget_->interrupted(L_)) budget_->raise(L_);
  }

 private:
  lua_State* L_;
  const LoopBudget* budget_;
  unsigned steps_ = 0;
};

}  // namespace trimtab
