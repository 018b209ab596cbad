// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <functional>

namespace trimtab {

// How the controller gets blocking I/O (scrapes, actuations) off its tick
// without knowing about threads or Asio: live, `work` runs on a worker pool
// and `done` is posted back to the loop thread; in the simulator and in unit
// tests both run inline, in order, on the virtual clock.
class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  // `work` may block; `done` runs on the loop thread after `work` finished.
  virtual void submit(std::function<void()> work, std::function<void()> done) = 0;
};

// Runs both parts immediately on the caller's thread.
class InlineTaskRunner final : public TaskRunner {
 public:
  void submit(std::function<void()> work, std::function<void()> done) override {
    work();
    done();
  }
};

}  // namespace trimtab
