// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "controller/governor.h"
#include "controller/series_store.h"
#include "policy/lua_sandbox.h"
#include "policy/policy_engine.h"
#include "policy/testing/test_file.h"
#include "policy/testing/test_spec.h"
#include "predict/predict_service.h"

namespace trimtab {

// What a policy sees in `trimtab test`: a real SeriesStore filled from the
// case's series (one source, one scrape per distinct timestamp), knobs held
// by a real Governor (so a step's proposals move the knobs as in `trimtab
// run`), the time of a ManualClock, and a PredictService of its own, so
// ctx.predict answers from the case's series as it would live.
class PolicyTestHost final : public PolicyHost {
 public:
  explicit PolicyTestHost(const ManualClock& clock);

  Seconds now() const override { return clock_.now(); }
  SeriesStore& store() override { return store_; }
  const KnobState* knob(const std::string& name) const override { return governor_.knob(name); }
  std::vector<std::string> knobNames() const override;
  // The production service, fed by the store like the controller's. This is
  // also the hook for canned answers (a case's reserved `predictions` key):
  // a fake service would be returned here.
  PredictService* predict() override { return &predict_; }

  Governor& governor() { return governor_; }
  // One successful scrape at `t`.
  void ingest(const SampleBatch& batch, Seconds t) { store_.ingest(source_, batch, t); }

 private:
  const ManualClock& clock_;
  SeriesStore store_;
  int source_;
  Governor governor_;
  PredictService predict_;
};

struct CaseResult {
  bool passed = false;
  // On failure: what went wrong, e.g. `step 2 (t=120): expected proposal
  // db_pool_size=12, got db_pool_size=10 (policies/x.lua:42)`.
  std::string message;
};

// Runs one case of `tests` against the policy in `policyFile`: a fresh host
// and PolicyEngine (production limits), its knobs and inputs, then each step's
// tick on the fake clock, checked against its expectations. Stops at the
// first step that fails. `coverage` (may be null) sees every line run.
CaseResult runCase(const std::string& policyFile, const TestCase& testCase, TestFile& tests,
                   LineObserver* coverage);

// Problems of one tick against its expectation (empty: it met it).
std::vector<std::string> checkTick(const Expectation& expect, const PolicyTickResult& result,
                                   const std::vector<Decision>& decisions, PolicyTestHost& host,
                                   PolicyEngine& engine, const std::string& policy, TestFile& tests);

}  // namespace trimtab
