// SPDX-License-Identifier: Apache-2.0
#include "controller/governor.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace trimtab {
namespace {

KnobSpec poolSpec() {
  KnobSpec k;
  k.name = "pool";
  k.integer = true;
  k.min = 5;
  k.max = 50;
  k.baseline = 20;
  return k;
}

Proposal propose(double value, std::string policy = "p", int priority = 0, int order = 0,
                 std::string knob = "pool") {
  Proposal p;
  p.policy = std::move(policy);
  p.priority = priority;
  p.order = order;
  p.knob = std::move(knob);
  p.value = value;
  p.reason = "because";
  p.location = "policies/p.lua:7";
  return p;
}

Decision one(Governor& g, const Proposal& p, Seconds now) {
  auto ds = g.decide({p}, now);
  REQUIRE(ds.size() == 1);
  return ds[0];
}

Governor withKnob(KnobSpec spec, bool dryRun = false) {
  Governor g(dryRun);
  g.addKnob(spec);
  return g;
}

}  // namespace

TEST_CASE("a proposal inside every bound is applied and moves the knob") {
  Governor g = withKnob(poolSpec());
  REQUIRE(g.knob("pool") != nullptr);
  CHECK(g.knob("pool")->current == 20);
  CHECK(g.knob("pool")->lastChange == -1);
  Proposal p = propose(25);
  p.inputs.push_back(InputRead{"avg(x[1m])", 3, false, false});
  Decision d = one(g, p, 100);
  CHECK(d.verdict == Verdict::Apply);
  CHECK(d.decided == 25);
  CHECK(d.previous == 20);
  CHECK(d.proposed == 25);
  CHECK(d.rule.empty());
  CHECK(d.time == 100);
  CHECK(d.policy == "p");
  CHECK(d.reason == "because");
  CHECK(d.location == "policies/p.lua:7");
  REQUIRE(d.inputs.size() == 1);
  CHECK(d.inputs[0].what == "avg(x[1m])");
  CHECK(g.knob("pool")->current == 25);
  CHECK(g.knob("pool")->lastChange == 100);
}

TEST_CASE("rule 1: unknown knob, NaN and infinite proposals are vetoed") {
  Governor g = withKnob(poolSpec());
  Decision d = one(g, propose(10, "p", 0, 0, "nope"), 1);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "unknown knob \"nope\"");

  d = one(g, propose(NAN), 1);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "NaN proposal");
  CHECK(d.decided == 20);
  CHECK(d.previous == 20);
  for (double inf : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()}) {
    d = one(g, propose(inf), 1);
    CHECK(d.verdict == Verdict::Vetoed);
    CHECK(d.rule == "infinite proposal");
  }
  CHECK(g.knob("pool")->current == 20);
  CHECK(g.knob("pool")->lastChange == -1);
}

TEST_CASE("rule 2: a stale or missing input vetoes the proposal") {
  Governor g = withKnob(poolSpec());
  Proposal p = propose(30);
  p.inputs = {{"fresh", 1, false, false}, {"latency", 2, true, false}};
  Decision d = one(g, p, 1);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "stale input latency");

  p.inputs = {{"queue", NAN, false, true}, {"latency", 2, true, false}};
  d = one(g, p, 1);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "missing input queue (+1 more)");
  CHECK(g.knob("pool")->current == 20);
}

TEST_CASE("rule 3: conflicts go to priority, then config order, then a policy's last proposal") {
  Governor g = withKnob(poolSpec());
  SUBCASE("higher priority wins, whatever the order of proposals") {
    std::vector<Proposal> ps = {propose(30, "low", 1, 0), propose(10, "high", 5, 1)};
    for (int round = 0; round < 2; ++round) {
      Governor gg = withKnob(poolSpec());
      auto ds = gg.decide(ps, 1);
      REQUIRE(ds.size() == 2);
      auto& low = ds[ps[0].policy == "low" ? 0 : 1];
      auto& high = ds[ps[0].policy == "low" ? 1 : 0];
      CHECK(high.verdict == Verdict::Apply);
      CHECK(high.decided == 10);
      CHECK(low.verdict == Verdict::Vetoed);
      CHECK(low.rule == "lost to policy high (priority 5)");
      CHECK(gg.knob("pool")->current == 10);
      std::reverse(ps.begin(), ps.end());
    }
  }
  SUBCASE("same priority: earlier in config order wins") {
    auto ds = g.decide({propose(30, "second", 0, 2), propose(10, "first", 0, 1)}, 1);
    CHECK(ds[0].verdict == Verdict::Vetoed);
    CHECK(ds[0].rule == "lost to policy first (priority 0)");
    CHECK(ds[1].verdict == Verdict::Apply);
  }
  SUBCASE("one policy proposing twice: the last one wins") {
    auto ds = g.decide({propose(30, "p"), propose(35, "p")}, 1);
    CHECK(ds[0].verdict == Verdict::Vetoed);
    CHECK(ds[0].rule.find("superseded") != std::string::npos);
    CHECK(ds[1].verdict == Verdict::Apply);
    CHECK(ds[1].decided == 35);
  }
  SUBCASE("a proposal vetoed by rules 1-2 does not compete") {
    Proposal stale = propose(40, "high", 9, 0);
    stale.inputs = {{"x", 1, true, false}};
    auto ds = g.decide({stale, propose(30, "low", 0, 1)}, 1);
    CHECK(ds[0].verdict == Verdict::Vetoed);
    CHECK(ds[0].rule == "stale input x");
    CHECK(ds[1].verdict == Verdict::Apply);
    CHECK(ds[1].decided == 30);
  }
  SUBCASE("proposals for different knobs do not conflict") {
    KnobSpec other = poolSpec();
    other.name = "ttl";
    g.addKnob(other);
    auto ds = g.decide({propose(30, "a", 0, 0, "pool"), propose(40, "b", 0, 1, "ttl")}, 1);
    CHECK(ds[0].verdict == Verdict::Apply);
    CHECK(ds[1].verdict == Verdict::Apply);
  }
}

TEST_CASE("rule 4: clamp to bounds; integer knobs are rounded") {
  Governor g = withKnob(poolSpec());
  Decision d = one(g, propose(80), 1);
  CHECK(d.verdict == Verdict::Apply);
  CHECK(d.decided == 50);
  CHECK(d.rule == "clamped to max 50");
  d = one(g, propose(-3), 2);
  CHECK(d.decided == 5);
  CHECK(d.rule == "clamped to min 5");
  d = one(g, propose(24.6), 3);
  CHECK(d.decided == 25);
  CHECK(d.rule == "rounded to 25");
  d = one(g, propose(24.4), 4);
  CHECK(d.decided == 24);

  KnobSpec ratio = poolSpec();
  ratio.integer = false;
  Governor f = withKnob(ratio);
  d = one(f, propose(24.6), 1);
  CHECK(d.decided == 24.6);
  CHECK(d.rule.empty());
}

TEST_CASE("rule 5: changes within the deadband, or none, leave the knob unchanged") {
  KnobSpec spec = poolSpec();
  spec.deadband = 3;
  Governor g = withKnob(spec);
  Decision d = one(g, propose(22), 1);
  CHECK(d.verdict == Verdict::Unchanged);
  CHECK(d.decided == 20);
  CHECK(d.rule.find("deadband 3") != std::string::npos);
  d = one(g, propose(20), 1);
  CHECK(d.verdict == Verdict::Unchanged);
  CHECK(d.rule == "no change");
  d = one(g, propose(23), 1);
  CHECK(d.verdict == Verdict::Apply);
  CHECK(d.decided == 23);
  // Clamped to the current value: no change either, and the rule says both.
  g.setCurrent("pool", 50);
  d = one(g, propose(70), 2);
  CHECK(d.verdict == Verdict::Unchanged);
  CHECK(d.rule == "clamped to max 50; no change");
}

TEST_CASE("rule 6: cooldown since the last change") {
  KnobSpec spec = poolSpec();
  spec.cooldown = 30;
  Governor g = withKnob(spec);
  CHECK(one(g, propose(25), 100).verdict == Verdict::Apply);  // no cooldown before the first change
  Decision d = one(g, propose(30), 110);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "cooldown 20s left");
  CHECK(d.decided == 25);
  CHECK(g.knob("pool")->current == 25);
  CHECK(g.knob("pool")->lastChange == 100);
  // Unchanged and vetoed decisions do not restart the cooldown.
  d = one(g, propose(30), 130);
  CHECK(d.verdict == Verdict::Apply);
}

TEST_CASE("rule 7: max changes per sliding hour") {
  KnobSpec spec = poolSpec();
  spec.maxChangesPerHour = 2;
  Governor g = withKnob(spec);
  CHECK(one(g, propose(21), 0).verdict == Verdict::Apply);
  CHECK(one(g, propose(22), 1000).verdict == Verdict::Apply);
  Decision d = one(g, propose(23), 2000);
  CHECK(d.verdict == Verdict::Vetoed);
  CHECK(d.rule == "max 2 changes per hour reached");
  CHECK(one(g, propose(23), 3599).verdict == Verdict::Vetoed);
  CHECK(one(g, propose(23), 3601).verdict == Verdict::Apply);  // the change at 0 left the hour
  CHECK(one(g, propose(24), 3700).verdict == Verdict::Vetoed);
}

TEST_CASE("rule 8: max step moves toward the proposal") {
  KnobSpec spec = poolSpec();
  spec.maxStep = 5;
  Governor g = withKnob(spec);
  Decision d = one(g, propose(40), 1);
  CHECK(d.verdict == Verdict::Apply);
  CHECK(d.decided == 25);
  CHECK(d.proposed == 40);
  CHECK(d.rule == "max step 5");
  d = one(g, propose(5), 2);
  CHECK(d.decided == 20);
  d = one(g, propose(23), 3);
  CHECK(d.decided == 23);  // within the step
  CHECK(d.rule.empty());

  SUBCASE("clamp, then step") {
    d = one(g, propose(80), 4);
    CHECK(d.decided == 28);
    CHECK(d.rule == "clamped to max 50; max step 5");
  }
  SUBCASE("integer knobs stay integer") {
    KnobSpec odd = poolSpec();
    odd.maxStep = 2.5;
    Governor h = withKnob(odd);
    CHECK(one(h, propose(30), 1).decided == 22);
    CHECK(one(h, propose(10), 2).decided == 20);
    h.setCurrent("pool", 10.5);  // e.g. recovered from an older, non-integer config
    d = one(h, propose(30), 3);
    CHECK(d.decided == 12);
    CHECK(d.decided == std::round(d.decided));
  }
  SUBCASE("non-integer knobs step exactly") {
    KnobSpec ratio = poolSpec();
    ratio.integer = false;
    ratio.maxStep = 2.5;
    Governor h = withKnob(ratio);
    CHECK(one(h, propose(30), 1).decided == 22.5);
  }
}

TEST_CASE("rule 9: dry-run, global or per knob, records the enforce-mode trajectory") {
  KnobSpec spec = poolSpec();
  spec.maxStep = 5;
  spec.cooldown = 10;
  SUBCASE("global") {
    Governor g = withKnob(spec, true);
    Decision d = one(g, propose(40), 0);
    CHECK(d.verdict == Verdict::DryRun);
    CHECK(d.decided == 25);
    CHECK(d.rule == "max step 5");
    CHECK(g.knob("pool")->current == 25);  // shadow value
    CHECK(one(g, propose(40), 5).verdict == Verdict::Vetoed);  // cooldown, as enforce would
    d = one(g, propose(40), 10);
    CHECK(d.verdict == Verdict::DryRun);
    CHECK(d.previous == 25);
    CHECK(d.decided == 30);
  }
  SUBCASE("per knob") {
    spec.dryRun = true;
    KnobSpec live = poolSpec();
    live.name = "live";
    Governor g = withKnob(spec);
    g.addKnob(live);
    auto ds = g.decide({propose(40, "a", 0, 0, "pool"), propose(40, "a", 0, 0, "live")}, 0);
    CHECK(ds[0].verdict == Verdict::DryRun);
    CHECK(ds[1].verdict == Verdict::Apply);
  }
}

TEST_CASE("markFailed reverts the knob and frees cooldown and rate limit") {
  KnobSpec spec = poolSpec();
  spec.cooldown = 60;
  spec.maxChangesPerHour = 1;
  Governor g = withKnob(spec);
  Decision d = one(g, propose(30), 100);
  REQUIRE(d.verdict == Verdict::Apply);
  g.setPending("pool", true);
  CHECK(g.knob("pool")->pending);
  g.markFailed("pool", d.previous, d.time);
  g.setPending("pool", false);
  CHECK(g.knob("pool")->current == 20);
  CHECK(g.knob("pool")->lastChange == -1);
  CHECK_FALSE(g.knob("pool")->pending);
  d = one(g, propose(30), 101);  // neither cooldown nor the hourly limit blocks it
  CHECK(d.verdict == Verdict::Apply);

  SUBCASE("a later change stands") {
    Governor h = withKnob(poolSpec());  // no cooldown, no limit
    Decision first = one(h, propose(30), 0);
    Decision second = one(h, propose(40), 1);
    REQUIRE(second.verdict == Verdict::Apply);
    h.markFailed("pool", first.previous, first.time);  // the first one's failure arrives late
    CHECK(h.knob("pool")->current == 40);
    CHECK(h.knob("pool")->lastChange == 1);
  }
  SUBCASE("the previous change time comes back for the cooldown") {
    KnobSpec s2 = poolSpec();
    s2.cooldown = 60;
    Governor h = withKnob(s2);
    REQUIRE(one(h, propose(30), 0).verdict == Verdict::Apply);
    Decision second = one(h, propose(40), 100);
    REQUIRE(second.verdict == Verdict::Apply);
    h.markFailed("pool", second.previous, second.time);
    CHECK(h.knob("pool")->current == 30);
    CHECK(h.knob("pool")->lastChange == 0);
  }
  g.markFailed("unknown", 1, 1);  // ignored
}

TEST_CASE("decisions come back in proposal order, one per proposal") {
  Governor g = withKnob(poolSpec());
  KnobSpec ttl = poolSpec();
  ttl.name = "ttl";
  g.addKnob(ttl);
  auto ds = g.decide({propose(30, "a", 0, 0, "ttl"), propose(NAN, "b"), propose(31, "c", 0, 0, "x"),
                      propose(25, "d")},
                     7);
  REQUIRE(ds.size() == 4);
  CHECK(ds[0].policy == "a");
  CHECK(ds[0].verdict == Verdict::Apply);
  CHECK(ds[1].policy == "b");
  CHECK(ds[1].verdict == Verdict::Vetoed);
  CHECK(ds[2].policy == "c");
  CHECK(ds[2].verdict == Verdict::Vetoed);
  CHECK(ds[3].policy == "d");
  CHECK(ds[3].verdict == Verdict::Apply);
  CHECK(g.decide({}, 8).empty());
}

TEST_CASE("re-adding a knob keeps its current value; setCurrent ignores unknown knobs") {
  Governor g = withKnob(poolSpec());
  g.setCurrent("pool", 33);
  KnobSpec wider = poolSpec();
  wider.max = 100;
  g.addKnob(wider);
  CHECK(g.knob("pool")->current == 33);
  CHECK(g.knob("pool")->spec.max == 100);
  g.setCurrent("nope", 1);
  CHECK(g.knob("nope") == nullptr);
  CHECK(g.knobs().size() == 1);
}

TEST_CASE("verdict names") {
  CHECK(std::string(verdictName(Verdict::Apply)) == "apply");
  CHECK(std::string(verdictName(Verdict::DryRun)) == "dry-run");
  CHECK(std::string(verdictName(Verdict::Unchanged)) == "unchanged");
  CHECK(std::string(verdictName(Verdict::Vetoed)) == "vetoed");
}

}  // namespace trimtab

TEST_CASE("a knob whose previous change is still being applied is not changed again") {
  trimtab::Governor g;
  trimtab::KnobSpec spec;
  spec.name = "pool";
  spec.min = 1;
  spec.max = 100;
  spec.baseline = 10;
  g.addKnob(spec);
  trimtab::Proposal p;
  p.policy = "a";
  p.knob = "pool";
  p.value = 20;
  g.setPending("pool", true);
  auto d = g.decide({p}, 100);
  REQUIRE(d.size() == 1);
  CHECK(d[0].verdict == trimtab::Verdict::Vetoed);
  CHECK(d[0].rule.find("still being applied") != std::string::npos);
  g.setPending("pool", false);
  d = g.decide({p}, 101);
  CHECK(d[0].verdict == trimtab::Verdict::Apply);
  CHECK(d[0].decided == 20);
}
