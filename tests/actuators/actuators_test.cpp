// SPDX-License-Identifier: Apache-2.0
// The registry, the log and self actuators, and factory errors shared by all.
#include <doctest/doctest.h>

#include <cmath>
#include <map>
#include <optional>
#include <string>

#include "actuators/actuator.h"
#include "actuators/actuator_support.h"
#include "actuators/self_actuator.h"
#include "actuator_test_support.h"

namespace trimtab {
namespace {

using testing::build;
using testing::Params;
using testing::request;

class FakeSelfSettings : public SelfSettings {
 public:
  Status setSourceInterval(const std::string& source, Seconds interval) override {
    ++calls;
    if (refuse) return makeError("source '" + source + "' refuses");
    if (!ignore) intervals[source] = interval;
    return Status::success();
  }
  std::optional<Seconds> sourceInterval(const std::string& source) const override {
    auto it = intervals.find(source);
    if (it == intervals.end()) return std::nullopt;
    return it->second;
  }
  std::map<std::string, Seconds> intervals{{"app", 15}};
  int calls = 0;
  bool refuse = false;
  bool ignore = false;  // accepts but does not change (not effective)
};

TEST_CASE("every actuator of this issue is registered by name") {
  for (const char* name : {"log", "http", "exec", "self"})
    CHECK_MESSAGE(ActuatorRegistry::instance().find(name) != nullptr, name);
  CHECK(ActuatorRegistry::instance().find("nope") == nullptr);
}

TEST_CASE("log actuator records only") {
  Params params("{}");
  auto actuator = build("log", params, ActuatorContext{"pool", nullptr});
  REQUIRE(actuator.ok());
  auto outcome = (*actuator)->apply(request());
  CHECK(outcome.ok);
  CHECK(outcome.effective);
  CHECK(outcome.detail == "logged");
  CHECK(params.diagnostics->empty());
}

TEST_CASE("log actuator rejects params it does not have") {
  Params params("level: debug\n");
  auto actuator = build("log", params);
  REQUIRE_FALSE(actuator.ok());
  CHECK(params.mentions("level", "unknown key"));
  CHECK(actuator.error().message.find("level") != std::string::npos);
}

TEST_CASE("self actuator sets a source's scrape interval") {
  FakeSelfSettings self;
  Params params("source: app\n");
  auto actuator = build("self", params, ActuatorContext{"app_interval", &self});
  REQUIRE(actuator.ok());
  auto outcome = (*actuator)->apply(request(5, 15));
  CHECK(outcome.ok);
  CHECK(outcome.effective);
  CHECK(self.intervals["app"] == 5);
  CHECK(outcome.detail.find("app") != std::string::npos);

  SUBCASE("a change that does not stick is not effective") {
    self.ignore = true;
    auto again = (*actuator)->apply(request(7, 5));
    CHECK(again.ok);
    CHECK_FALSE(again.effective);
    CHECK(again.detail.find("not yet effective") != std::string::npos);
  }
  SUBCASE("the controller's refusal is the outcome") {
    self.refuse = true;
    auto again = (*actuator)->apply(request(7, 5));
    CHECK_FALSE(again.ok);
    CHECK(again.detail.find("refuses") != std::string::npos);
  }
}

TEST_CASE("self actuator refuses intervals that are not positive") {
  FakeSelfSettings self;
  SelfActuator actuator("app", &self);
  for (double bad : {0.0, -1.0, std::nan(""), double(INFINITY)}) {
    auto outcome = actuator.apply(request(bad, 15));
    CHECK_FALSE(outcome.ok);
    CHECK(outcome.detail.find("expected seconds > 0") != std::string::npos);
  }
  CHECK(self.calls == 0);
  CHECK(self.intervals["app"] == 15);
}

TEST_CASE("self actuator without SelfSettings fails at apply, not at build") {
  Params params("source: app\n");
  auto actuator = build("self", params);  // as `trimtab check` builds it
  REQUIRE(actuator.ok());
  auto outcome = (*actuator)->apply(request(5, 15));
  CHECK_FALSE(outcome.ok);
  CHECK(outcome.detail.find("no access") != std::string::npos);
}

TEST_CASE("self actuator settings errors name the key") {
  FakeSelfSettings self;
  SUBCASE("missing source") {
    Params params("{}");
    auto actuator = build("self", params, ActuatorContext{"k", &self});
    REQUIRE_FALSE(actuator.ok());
    CHECK(params.mentions("source", "missing required key"));
  }
  SUBCASE("unknown source") {
    Params params("source: nope\n");
    auto actuator = build("self", params, ActuatorContext{"k", &self});
    REQUIRE_FALSE(actuator.ok());
    CHECK(params.mentions("source", "no source named 'nope'"));
  }
  SUBCASE("knob bounds outside the scrape interval's range") {
    self.intervals["app"] = 10;
    Params below("source: app\n");
    REQUIRE_FALSE(build("self", below, ActuatorContext{"k", &self, 0.01, 60}).ok());
    CHECK(below.mentions("", "knob 'k' ranges over [0.01, 60] s; a scrape interval must be within [0.05, 3600] s"));
    Params above("source: app\n");
    REQUIRE_FALSE(build("self", above, ActuatorContext{"k", &self, 1, 7200}).ok());
    CHECK(above.mentions("", "[1, 7200] s"));
    Params negative("source: app\n");  // a max of 0 is a bound too
    REQUIRE_FALSE(build("self", negative, ActuatorContext{"k", &self, -10, 0}).ok());
    CHECK(negative.mentions("", "[-10, 0] s"));
    Params inside("source: app\n");
    CHECK(build("self", inside, ActuatorContext{"k", &self, 0.05, 3600}).ok());
  }
}

TEST_CASE("placeholders are substituted, other braces kept") {
  using actuator_support::substitute;
  auto r = request(25, 20.5, "why");
  CHECK(substitute("{knob}={value} was {previous} ({reason}) {other} {", r) ==
        "pool=25 was 20.5 (why) {other} {");
  CHECK(actuator_support::formatValue(0.25) == "0.25");
  CHECK(actuator_support::formatValue(-3) == "-3");
  CHECK(actuator_support::formatValue(1e20) == "1e+20");
}

}  // namespace
}  // namespace trimtab
