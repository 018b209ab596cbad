-- SPDX-License-Identifier: Apache-2.0
-- Tests of gradient2_pool.lua (Netflix concurrency-limits' Gradient2Limit on a pool).
local function pool(size, max)
  return { db_pool_size = { value = size, min = 1, max = max or 200 } }
end

local function reads(active, rtt)
  return { db_pool_connections_active = active, db_query_service_seconds = rtt, db_pool_wait_seconds_mean = 0 }
end

return {
  {
    name = "steady round trips: the limit grows by queueSize x smoothing per sample",
    now = 0,
    knobs = pool(20),
    steps = {
      { values = reads(15, 0.02), expect = { no_proposal = true, state = { limit = 20.8 } } },
      { advance = 5, values = reads(15, 0.02),
        expect = { proposals = { db_pool_size = { value = 21, reason = "gradient 1%.00" } } } },
    },
  },
  {
    name = "round trips 4x the long average: gradient 0.5, the limit shrinks",
    params = { warmup = 1 },
    now = 0,
    knobs = pool(20),
    steps = {
      { values = reads(15, 0.02), expect = { no_proposal = true } },
      -- long = 0.02 x 599/601 + 0.08 x 2/601; gradient = max(0.5, 1.5 x long / 0.08) = 0.5;
      -- new = 20.8 x 0.5 + 4; limit = 20.8 x 0.8 + new x 0.2 = 19.52
      { advance = 5, values = reads(15, 0.08),
        expect = { proposals = { db_pool_size = { value = 19, reason = "gradient 0%.50" } } } },
    },
  },
  {
    name = "application-limited: less than half the limit in flight, no change",
    knobs = pool(20),
    values = reads(9, 0.02),
    expect = { no_proposal = true, state = { limit = 20 } },
  },
  {
    name = "a long average over twice the round trip decays by 5 %",
    params = { warmup = 2 },
    now = 0,
    knobs = pool(20),
    steps = {
      { values = reads(5, 0.1), expect = { no_proposal = true, state = { long = 0.1 } } },
      { advance = 5, values = reads(5, 0.02), expect = { no_proposal = true, state = { long = 0.06 * 0.95 } } },
    },
  },
  {
    name = "queueSize max(4, sqrt(limit)) as GradientLimit has it",
    params = { queue_size_sqrt = true },
    knobs = pool(100),
    values = reads(60, 0.02),
    expect = { proposals = { db_pool_size = 102 } },
  },
  {
    -- SquareRootFunction's table holds (int) sqrt: 10 for 120, not 10.95;
    -- limit = 120 x 0.8 + (120 + 10) x 0.2 = 122
    name = "the square-root queue size is whole, as the library's lookup table has it",
    params = { queue_size_sqrt = true },
    knobs = pool(120),
    values = reads(80, 0.02),
    expect = { proposals = { db_pool_size = 122 }, state = { limit = 122 } },
  },
  {
    name = "maxLimit caps the limit",
    params = { max_limit = 20 },
    knobs = pool(20),
    values = reads(15, 0.02),
    expect = { no_proposal = true, state = { limit = 20 } },
  },
  {
    name = "a pool size changed from outside restarts the limit from it",
    now = 0,
    knobs = pool(20),
    steps = {
      { values = reads(15, 0.02), expect = { state = { limit = 20.8 } } },
      { advance = 5, knobs = { db_pool_size = { value = 30 } }, values = reads(15, 0.02),
        expect = { no_proposal = true, state = { limit = 30.8 } } },
    },
  },
  {
    name = "a proposal the governor holds back keeps the estimate",
    now = 0,
    knobs = { db_pool_size = { value = 20, min = 1, max = 200, cooldown = 60 } },
    steps = {
      { values = reads(15, 0.02), expect = { no_proposal = true } },
      { advance = 5, values = reads(15, 0.02), expect = { proposals = { db_pool_size = 21 }, knobs = { db_pool_size = 21 } } },
      { advance = 5, values = reads(15, 0.02), expect = { proposals = { db_pool_size = 22 }, knobs = { db_pool_size = 21 } } },
      { advance = 5, values = reads(15, 0.02), expect = { proposals = { db_pool_size = 23 } } },
    },
  },
  {
    name = "no round trip: no decision",
    knobs = pool(20),
    values = { db_pool_connections_active = 15, db_query_service_seconds = 0.02 },
    expect = { no_proposal = true },
  },
  {
    name = "a zero round trip is no sample",
    knobs = pool(20),
    values = reads(15, 0),
    expect = { no_proposal = true, state_nil = "limit" },
  },
  {
    name = "a knob that is not governed: no decision",
    params = { knob = "pgbouncer_pool_size" },
    knobs = pool(20),
    values = reads(15, 0.02),
    expect = { no_proposal = true },
  },
}
