// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>

#include "actuators/actuator.h"

namespace trimtab {

// The scrape interval of each source, changeable at run time by the `self`
// actuator (from a worker thread) and read by the controller on its tick.
// The set of sources is fixed at construction, so lookups need no lock.
class SourceIntervals final : public SelfSettings {
 public:
  static constexpr Seconds kMinInterval = kMinSourceInterval;
  static constexpr Seconds kMaxInterval = kMaxSourceInterval;

  void add(const std::string& source, Seconds interval) {
    intervals_.emplace(source, std::make_unique<std::atomic<double>>(interval));
  }
  Status setSourceInterval(const std::string& source, Seconds interval) override {
    auto it = intervals_.find(source);
    if (it == intervals_.end()) return makeError("no source named '" + source + "'");
    if (!(interval >= kMinInterval && interval <= kMaxInterval))
      return makeError("interval " + std::to_string(interval) + " s for source '" + source +
                       "' is outside [0.05, 3600] s");
    it->second->store(interval);
    return Status::success();
  }
  std::optional<Seconds> sourceInterval(const std::string& source) const override {
    auto it = intervals_.find(source);
    if (it == intervals_.end()) return std::nullopt;
    return it->second->load();
  }

 private:
  std::map<std::string, std::unique_ptr<std::atomic<double>>> intervals_;
};

}  // namespace trimtab
