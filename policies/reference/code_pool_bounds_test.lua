-- SPDX-License-Identifier: Apache-2.0
-- Tests of code_pool_bounds.lua.
local function pool(size)
  return { db_pool_size = { value = size, min = 1, max = 10000 } }
end

return {
  {
    name = "demand over 85 % utilisation grows the pool",
    values = { db_pool_connections_active = 30, db_pool_clients_waiting = 4 },
    knobs = pool(20),
    expect = { proposals = { db_pool_size = { value = 40, reason = "demand 34.0 connections" } } },
  },
  {
    name = "never above 50",
    values = { db_pool_connections_active = 60, db_pool_clients_waiting = 30 },
    knobs = pool(40),
    expect = { proposals = { db_pool_size = 50 } },
  },
  {
    name = "never under 10",
    values = { db_pool_connections_active = 1, db_pool_clients_waiting = 0 },
    knobs = pool(20),
    expect = { proposals = { db_pool_size = 10 } },
  },
  {
    name = "demand that fits: no proposal",
    values = { db_pool_connections_active = 17, db_pool_clients_waiting = 0 },
    knobs = pool(20),
    expect = { no_proposal = true },
  },
  {
    name = "other bounds from the params",
    params = { min_size = 5, max_size = 20 },
    values = { db_pool_connections_active = 1, db_pool_clients_waiting = 0 },
    knobs = pool(10),
    expect = { proposals = { db_pool_size = 5 } },
  },
  {
    name = "no waiting count: no proposal",
    values = { db_pool_connections_active = 30 },
    knobs = pool(20),
    expect = { no_proposal = true },
  },
}
