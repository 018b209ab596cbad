// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "actuators/actuator.h"
#include "common/config_node.h"
#include "services_env.h"
#include "sources/metric_source.h"

namespace trimtab::integration {

// Builds a source or actuator from YAML by registry name, as the controller does.
inline std::unique_ptr<MetricSource> makeSource(const std::string& kind, const std::string& yaml, Seconds timeout = 2,
                                                Seconds interval = 1) {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  ConfigNode node = ConfigNode::loadString(yaml, "integration.yaml", diagnostics);
  SourceSpec spec;
  spec.name = kind;
  spec.kind = kind;
  spec.timeout = timeout;
  spec.interval = interval;
  const auto* factory = SourceRegistry::instance().find(kind);
  REQUIRE(factory);
  auto built = (*factory)(spec, node);
  if (!built) FAIL(built.error().message);
  return std::move(built.value());
}

inline std::unique_ptr<Actuator> makeActuator(const std::string& kind, const std::string& yaml,
                                              const std::string& knob = "knob") {
  auto diagnostics = std::make_shared<ConfigDiagnostics>();
  ConfigNode node = ConfigNode::loadString(yaml, "integration.yaml", diagnostics);
  ActuatorContext context;
  context.knob = knob;
  const auto* factory = ActuatorRegistry::instance().find(kind);
  REQUIRE(factory);
  auto built = (*factory)(node, context);
  if (!built) FAIL(built.error().message);
  return std::move(built.value());
}

inline ActuationRequest change(double value, double previous = 0) {
  ActuationRequest r;
  r.knob = "knob";
  r.value = value;
  r.previous = previous;
  r.reason = "integration test";
  return r;
}

// Series key -> value of one collection; empty when it failed.
inline std::map<std::string, double> collectMap(MetricSource& source, std::string* error = nullptr) {
  CollectResult r = source.collect(FamilyFilter::everything());
  std::map<std::string, double> out;
  if (!r.status.ok()) {
    if (error) *error = r.status.error().message;
    return out;
  }
  for (std::size_t i = 0; i < r.batch.size(); ++i) out[std::string(r.batch.key(i))] = r.batch.entry(i).value;
  return out;
}

// The property the issue asks for: a source whose server came back reads it
// again within two of its intervals.
inline bool recoversWithinTwoIntervals(MetricSource& source, Seconds interval) {
  for (int i = 0; i < 2; ++i) {
    sleepFor(interval);
    if (source.collect(FamilyFilter::everything()).status.ok()) return true;
  }
  return false;
}

inline bool collectOk(MetricSource& source) { return source.collect(FamilyFilter::everything()).status.ok(); }

inline double valueOr(const std::map<std::string, double>& m, const std::string& key, double fallback = -1) {
  auto it = m.find(key);
  return it == m.end() ? fallback : it->second;
}

}  // namespace trimtab::integration
