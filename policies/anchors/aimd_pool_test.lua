-- SPDX-License-Identifier: Apache-2.0
-- Tests of aimd_pool.lua (Netflix concurrency-limits' AIMDLimit on a pool).
local function pool(size, min, max)
  return { db_pool_size = { value = size, min = min or 1, max = max or 200 } }
end

local function reads(active, service, wait, timeouts)
  return {
    db_pool_connections_active = active,
    db_query_service_seconds = service,
    db_pool_wait_seconds_mean = wait,
    db_pool_timeouts_total = timeouts,
  }
end

return {
  {
    name = "additive increase while at least half the pool is busy",
    knobs = pool(10),
    values = reads(5, 0.02, 0.001, 0),
    expect = { proposals = { db_pool_size = { value = 11, reason = "5%.0 in flight of 10: %+1" } } },
  },
  {
    name = "no change while less than half the pool is busy",
    knobs = pool(10),
    values = reads(4.9, 0.02, 0.001, 0),
    expect = { no_proposal = true },
  },
  {
    name = "a timeout since the last tick: limit x 0.9, rounded down",
    now = 0,
    knobs = pool(20),
    steps = {
      { values = reads(12, 0.02, 0.001, 100), expect = { proposals = { db_pool_size = 21 } } },
      { advance = 5, values = reads(12, 0.02, 0.001, 103),
        expect = { proposals = { db_pool_size = { value = 18, reason = "timeouts: backoff" } } } },
      { advance = 5, values = reads(12, 0.02, 0.001, 103), expect = { proposals = { db_pool_size = 19 } } },
    },
  },
  {
    name = "a round trip over the 5 s timeout counts as a drop",
    knobs = pool(10),
    values = reads(10, 0.02, 6, 0),
    expect = { proposals = { db_pool_size = { value = 9, reason = "rtt 6%.02 s over 5%.00 s" } } },
  },
  {
    name = "minLimit and maxLimit from the params",
    params = { min_limit = 8, max_limit = 10 },
    now = 0,
    knobs = pool(10),
    steps = {
      { values = reads(10, 0.02, 0.001, 0), expect = { no_proposal = true } },
      { advance = 5, values = reads(10, 0.02, 7, 0), expect = { proposals = { db_pool_size = 9 } } },
      { advance = 5, values = reads(10, 0.02, 7, 0), expect = { proposals = { db_pool_size = 8 } } },
      { advance = 5, values = reads(10, 0.02, 7, 0), expect = { no_proposal = true } },
    },
  },
  {
    name = "no timeouts counter: no decision",
    knobs = pool(10),
    values = { db_pool_connections_active = 8, db_query_service_seconds = 0.02, db_pool_wait_seconds_mean = 0 },
    expect = { no_proposal = true },
  },
  {
    name = "a knob that is not governed: no decision",
    params = { knob = "pgbouncer_pool_size" },
    knobs = pool(10),
    values = reads(8, 0.02, 0.001, 0),
    expect = { no_proposal = true },
  },
}
