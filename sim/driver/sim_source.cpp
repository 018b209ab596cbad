// SPDX-License-Identifier: Apache-2.0
#include "sim_source.h"

#include "number_format.h"

namespace trimtab::sim {

CollectResult SimSource::collect(const FamilyFilter& filter) {
  CollectResult result;
  if (!stack_.world().process.up) {
    result.status = makeError("connection refused: the simulated process is down (restarting after an OOM kill or a planned restart)");
    return result;
  }
  all_.clear();
  stack_.publish(all_);
  if (sink_) sink_->record(clock_.now(), all_);
  result.batch.reserve(filter.wantsAll() ? all_.size() : filter.size(), 0);
  if (filter.revision() != filterRevision_) {
    filterRevision_ = filter.revision();
    names_.clear();
    wanted_.clear();
  }
  if (names_.size() < all_.size()) {
    names_.resize(all_.size());
    wanted_.resize(all_.size());
  }
  for (std::size_t i = 0; i < all_.size(); ++i) {
    const std::string_view name = all_.name(i);
    if (names_[i] != name || names_[i].empty()) {
      names_[i].assign(name);
      wanted_[i] = filter.wants(name);
    }
    if (!wanted_[i]) {
      ++result.skippedSamples;
      continue;
    }
    const auto& e = all_.entry(i);
    result.batch.addKey(all_.key(i), e.nameLength, e.type, e.value);
  }
  return result;
}

void JsonLinesRecorder::record(Seconds t, const SampleBatch& batch) {
  if (!out_) return;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& e = batch.entry(i);
    line_ = "{\"t\":" + jsonNumber(t) + ",\"key\":" + jsonString(batch.key(i)) + ",\"value\":" + jsonNumber(e.value);
    if (e.type != MetricType::Unknown) line_ += ",\"type\":" + jsonString(metricTypeName(e.type));
    line_ += "}\n";
    std::fputs(line_.c_str(), out_);
  }
}

}  // namespace trimtab::sim
