-- SPDX-License-Identifier: Apache-2.0
-- Tests of pool_size.lua (the simulator's policy).
local function pool(size)
  return { db_pool_size = { value = size, min = 1, max = 10000 } }
end

return {
  {
    name = "busy connections at 75 % plus a margin of 2",
    values = { db_pool_connections_active = 15, db_pool_clients_waiting = 0 },
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 22, reason = "15.0 busy connections at 75%%" } } },
  },
  {
    name = "a queue grows the pool by at least its length",
    values = { db_pool_connections_active = 10, db_pool_clients_waiting = 12.5 },
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 23, reason = "12.5 clients waiting at pool size 10" } } },
  },
  {
    name = "a short queue under the model's size: the model wins",
    values = { db_pool_connections_active = 30, db_pool_clients_waiting = 1 },
    knobs = pool(10),
    expect = { proposals = { db_pool_size = 42 } },
  },
  {
    name = "never past the ceiling",
    params = { ceiling = 30 },
    values = { db_pool_connections_active = 30, db_pool_clients_waiting = 0 },
    knobs = pool(10),
    expect = { proposals = { db_pool_size = 30 } },
  },
  {
    name = "at the ceiling already: no proposal",
    params = { ceiling = 10 },
    values = { db_pool_connections_active = 30, db_pool_clients_waiting = 0 },
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "shrinks to the busiest moment of the last 10 minutes, with headroom",
    series = {
      { metric = "db_pool_connections_active", points = { {0, 15}, {300, 3} } },
      { metric = "db_pool_clients_waiting", points = { {0, 0}, {300, 0} } },
    },
    knobs = pool(40),
    expect = { proposals = { db_pool_size = { value = 24, reason = "at most 15.0 busy connections in 10m" } } },
  },
  {
    name = "a small shrink is not worth it",
    values = { db_pool_connections_active = 6, db_pool_clients_waiting = 0 },
    knobs = pool(13),
    expect = { no_proposal = true },
  },
  {
    name = "no waiting count: no proposal",
    values = { db_pool_connections_active = 6 },
    knobs = pool(10),
    expect = { no_proposal = true },
  },
}
