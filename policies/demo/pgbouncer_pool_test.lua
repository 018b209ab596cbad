-- SPDX-License-Identifier: Apache-2.0
-- Tests of pgbouncer_pool.lua.

-- SHOW POOLS of database app over the last 10 s: `waiting` clients, the
-- oldest waiting `maxwait` seconds, `busy` server connections at most; plus
-- another database that must not count.
local function pools(waiting, maxwait, busy)
  local active = {}
  for t = 0, 10, 2 do active[#active + 1] = { t, t == 6 and busy or 1 } end
  local app = { database = "app", user = "app_user" }
  local other = { database = "reports", user = "app_user" }
  return {
    { metric = "pgbouncer_pools_client_waiting_connections", labels = app, points = { { 10, waiting } } },
    { metric = "pgbouncer_pools_client_waiting_connections", labels = other, points = { { 10, 50 } } },
    { metric = "pgbouncer_pools_client_maxwait_seconds", labels = app, points = { { 10, maxwait } } },
    { metric = "pgbouncer_pools_server_active_connections", labels = app, points = active },
  }
end

local function pool(size)
  return { pgbouncer_pool_size = { value = size, min = 2, max = 40 } }
end

return {
  {
    name = "clients waiting: grow by half the queue",
    series = pools(6, 0.25, 4),
    knobs = pool(4),
    expect = { proposals = { pgbouncer_pool_size = { value = 7, reason = "^grow: 6 clients waiting %(oldest 250 ms%), pool 4" } } },
  },
  {
    name = "one waiting client: at least one more",
    series = pools(1, 0.01, 4),
    knobs = pool(4),
    expect = { proposals = { pgbouncer_pool_size = 5 } },
  },
  {
    name = "calm for three ticks: shrink to the peak plus headroom",
    series = pools(0, 0, 5),
    knobs = pool(20),
    steps = {
      { expect = { no_proposal = true, state = { calm = 1 } } },
      { expect = { no_proposal = true } },
      { expect = { proposals = { pgbouncer_pool_size = { value = 7, reason = "^shrink: nobody waited for 3 ticks, at most 5 of 20" } } } },
    },
  },
  {
    name = "calm but the pool is already tight: no change",
    series = pools(0, 0, 5),
    knobs = pool(7),
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true } },
    },
  },
  {
    name = "no data yet: no proposal",
    knobs = pool(4),
    expect = { no_proposal = true },
  },
}
