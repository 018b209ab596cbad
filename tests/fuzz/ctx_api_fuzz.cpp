// SPDX-License-Identifier: Apache-2.0
// The ctx API as a hostile or careless policy calls it: every ctx function
// and ctx.predict function with any mix of nil, booleans, edge numbers (NaN,
// infinities, the integer limits), odd strings (durations, aggregations,
// regexes that do not compile), tables, functions and ctx itself, inside
// the production engine and sandbox over a real store and predictor.
// Properties: no crash and no escaping exception (each call runs under
// pcall, so a refused argument is a Lua error); the tick ends with a status;
// proposals name a declared knob.
//
// Input: a program of calls. Each byte picks a function and how many
// arguments it gets; the next bytes pick each argument from a fixed list.
#include <cmath>
#include <string>

#include "../policy/policy_test_support.h"
#include "fuzz_check.h"
#include "predict/predict_service.h"

using namespace trimtab;
using namespace trimtab::test;

namespace {

const char kInterpreter[] = R"lua(
local functions = {"value", "window", "quantile", "rate", "increase", "series", "knob", "propose", "log"}
local predictions = {"eta", "trend", "forecast"}
return {
  name = "ctx_fuzz",
  params = {program = ""},
  tick = function(ctx)
    local values = {
      [1] = nil, [2] = true, [3] = false, [4] = 0, [5] = -1, [6] = 1, [7] = 0.5, [8] = 1e308, [9] = -1e308,
      [10] = 0 / 0, [11] = math.huge, [12] = -math.huge, [13] = math.mininteger, [14] = math.maxinteger,
      [15] = "", [16] = "queue_depth", [17] = "requests_total", [18] = "pool", [19] = "5m", [20] = "1s",
      [21] = "0s", [22] = "-1m", [23] = "1e9h", [24] = "avg", [25] = "max", [26] = "sum", [27] = "p99",
      [28] = string.rep("x", 300), [29] = {}, [30] = {q = "a"}, [31] = {q = {ne = "a"}}, [32] = {q = {re = "a.*"}},
      [33] = {q = {re = "("}}, [34] = {window = "1h"}, [35] = {horizon = "1h", level = 0.9}, [36] = {level = 2},
      [37] = {1, 2, 3}, [38] = function() end, [39] = ctx, [40] = 12, [41] = "pool_size", [42] = {min = 1},
      [43] = {window = "0s", horizon = "-5m"}, [44] = 2 ^ 53, [45] = "memory_bytes", [46] = 0.999,
    }
    local count = 46
    -- A valid call, logged first: the program's own ctx.log calls may reach
    -- the per-tick cap, past which lines are dropped.
    ctx.log("memory_bytes " .. tostring(ctx.value("memory_bytes")))
    local program = ctx.params.program
    local i, made, succeeded = 1, 0, 0
    while i <= #program do
      local b = program:byte(i)
      i = i + 1
      local f
      if b % 4 == 3 then
        f = ctx.predict[predictions[(b // 4) % #predictions + 1]]
      else
        f = ctx[functions[(b // 4) % #functions + 1]]
      end
      local n = (b // 64) % 4 + (b % 2)
      local args = {}
      for a = 1, n do
        args[a] = values[(program:byte(i) or 0) % count + 1]
        i = i + 1
      end
      made = made + 1
      if pcall(f, table.unpack(args, 1, n)) then succeeded = succeeded + 1 end
    end
    ctx.log(string.format("interpreted %d calls, %d succeeded", made, succeeded))
  end,
}
)lua";

struct World {
  TempDir dir;
  FakeHost host;
  PredictService predict;
  std::string file;
  World() {
    host.setPredict(&predict);
    host.addKnob("pool_size", 10, 1, 64);
    host.addKnob("ttl", 60, 5, 3600, false);
    // Ten minutes of history: labelled gauges, a counter with a reset, a rising memory series.
    for (int t = 0; t <= 600; t += 10) {
      const double x = t;
      host.scrape(1000 + t, {{"queue_depth", {{"q", "a"}}, std::fmod(x, 7)},
                             {"queue_depth", {{"q", "b"}}, 5},
                             {"requests_total", {}, t < 300 ? x * 3 : (x - 300) * 2, MetricType::Counter},
                             {"memory_bytes", {}, 1e6 + x * 1e3}});
    }
    file = dir.write("ctx_fuzz.lua", kInterpreter);
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  PolicyLimits limits = testLimits();
  limits.quarantineAfterErrors = 0;
  PolicyEngine engine(limits, world.host);
  const Status added = engine.add(specFor(world.file, {{"program", std::string(fuzz::asText(data, size))}}));
  FUZZ_CHECK(added.ok(), "the interpreter policy loads");
  const PolicyTickResult result = engine.tick("ctx_fuzz", 1600);
  if (!result.status.ok()) {
    FUZZ_CHECK(!result.status.error().message.empty(), "a failed tick says why");
  } else {
    // A valid call read the store's value (a sandbox or store that refused
    // everything would fail here), and the interpreter ran to its end: its
    // last line is there, or the engine's note that the cap dropped it.
    FUZZ_CHECK(!result.logs.empty() && result.logs.front() == "ctx_fuzz: memory_bytes 1600000.0", "a valid call works");
    const std::string& last = result.logs.back();
    FUZZ_CHECK(last.find("interpreted ") != std::string::npos || last.find("more log lines dropped") != std::string::npos,
               "the program ran to its end");
    if (std::getenv("TRIMTAB_FUZZ_VERBOSE")) std::fprintf(stderr, "%s\n", result.logs.back().c_str());
  }
  for (const auto& proposal : result.proposals) {
    FUZZ_CHECK(proposal.knob == "pool_size" || proposal.knob == "ttl", "proposals name a declared knob");
  }
  return 0;
}
