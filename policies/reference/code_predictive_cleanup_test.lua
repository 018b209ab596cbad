-- SPDX-License-Identifier: Apache-2.0
-- Tests of code_predictive_cleanup.lua. The policy keeps one sample per tick,
-- so the cases run a few ticks, 60 s apart.
local GiB = 2 ^ 30

-- Memory shares at t = 0, 60, 120, ... against a 1 GiB limit.
local function memory(shares)
  local used, limit = {}, {}
  for i, share in ipairs(shares) do
    used[i] = { (i - 1) * 60, share * GiB }
    limit[i] = { (i - 1) * 60, GiB }
  end
  return {
    { metric = "process_resident_memory_bytes", points = used },
    { metric = "process_memory_limit_bytes", points = limit },
  }
end

return {
  {
    name = "rising to 80 % within 300 s: clean up",
    series = memory({ 0.60, 0.65, 0.70 }),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true, state = { samples = { { 0, 0.6 } } } } },
      { expect = { no_proposal = true } },
      { expect = { proposals = { gc_collect = { value = 1, reason = "80%% in 120 s < 300 s" } },
                   state = { eta = 120 } } },
    },
  },
  {
    name = "rising slowly: 80 % is an hour away, no cleanup",
    series = memory({ 0.50, 0.51, 0.52 }),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true, state = { eta = 1680 } } },
    },
  },
  {
    name = "above 80 % but falling: no cleanup",
    series = memory({ 0.90, 0.85, 0.82 }),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true, state_nil = "eta" } },
    },
  },
  {
    name = "above 80 % and rising: at once, then every tick",
    series = memory({ 0.80, 0.81, 0.82, 0.83 }),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true } },
      { expect = { proposals = { gc_collect = 1 }, state = { eta = 0 } } },
      { expect = { proposals = { gc_collect = 2 } } },
    },
  },
  {
    name = "samples older than 15 minutes are dropped",
    series = {
      { metric = "process_resident_memory_bytes", points = { {0, 0.1 * GiB}, {1000, 0.7 * GiB}, {1060, 0.75 * GiB} } },
      { metric = "process_memory_limit_bytes", points = { {0, GiB}, {1000, GiB}, {1060, GiB} } },
    },
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { at = 1000, expect = { no_proposal = true, state = { samples = { { 1000, 0.7 } } } } },
      -- two samples in the window: too few for a trend, however steep
      { expect = { no_proposal = true, state = { samples = { { 1000, 0.7 }, { 1060, 0.75 } } } } },
    },
  },
  {
    name = "a shorter window and lead from the params",
    params = { min_samples = 2, lead = 60 },
    series = memory({ 0.60, 0.70 }),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true, state = { eta = 60 } } },
    },
  },
  {
    name = "no limit known: nothing",
    values = { process_resident_memory_bytes = GiB, process_memory_limit_bytes = 0 },
    knobs = { gc_collect = 0 },
    expect = { no_proposal = true, state_nil = "samples" },
  },
}
