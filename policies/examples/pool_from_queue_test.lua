-- SPDX-License-Identifier: Apache-2.0
-- Tests of pool_from_queue.lua.

-- Waits of the /api route (seconds) every 5 s up to t = `last` (60), plus a
-- slow route that must not count.
local function waits(value, last)
  local api, other = {}, {}
  for t = 0, last or 60, 5 do
    api[#api + 1] = { t, value }
    other[#other + 1] = { t, 10 }
  end
  return {
    { metric = "db_pool_wait_seconds", labels = { route = "/api" }, points = api },
    { metric = "db_pool_wait_seconds", labels = { route = "/batch" }, points = other },
  }
end

local function pool(size, step)
  return { db_pool_size = { value = size, min = 2, max = 50, step = step or 0 } }
end

return {
  {
    name = "p90 wait above 50 ms: one more connection",
    series = waits(0.2),
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 11, reason = "p90 wait 200 ms > target 50 ms" } },
               state = { last_wait = 60 } },
  },
  {
    name = "the knob's max step is the step",
    series = waits(0.2),
    knobs = pool(10, 3),
    expect = { proposals = { db_pool_size = 13 } },
  },
  {
    name = "calm for 5 minutes: one connection fewer",
    series = waits(0.001, 360),
    knobs = pool(10),
    now = 60,
    steps = {
      { expect = { no_proposal = true, state = { last_wait = 60 } } },
      { advance = 295, expect = { no_proposal = true } },
      { advance = 5, expect = { proposals = { db_pool_size = { value = 9, reason = "for 300 s" } } } },
    },
  },
  {
    name = "never below the knob's min",
    series = waits(0.001, 460),
    knobs = pool(2),
    now = 60,
    steps = {
      { expect = { no_proposal = true } },
      { advance = 400, expect = { no_proposal = true } },
    },
  },
  {
    name = "a target from the config, given as a duration",
    params = { target_wait = "500ms" },
    series = waits(0.2),
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "disabled: nothing",
    params = { enabled = false },
    series = waits(0.2),
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "no such knob: says so",
    series = waits(0.2),
    expect = { no_proposal = true, log = "no knob named db_pool_size" },
  },
  {
    name = "no waits recorded: no proposal",
    knobs = pool(10),
    expect = { no_proposal = true },
  },
}
