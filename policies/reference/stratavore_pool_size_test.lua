-- SPDX-License-Identifier: Apache-2.0
-- Tests of stratavore_pool_size.lua.
local function pool(size, min, max)
  return { db_pool_size = { value = size, min = min or 1, max = max or 10000 } }
end

return {
  {
    name = "12 busy connections at load 0.8 need 15",
    values = { db_pool_connections_active = 12 },
    knobs = pool(20),
    expect = { proposals = { db_pool_size = { value = 15, reason = "12.0 busy connections at load 0.60 of 20" } } },
  },
  {
    name = "a saturated pool grows by a quarter",
    values = { db_pool_connections_active = 20 },
    knobs = pool(20),
    expect = { proposals = { db_pool_size = 25 } },
  },
  {
    name = "already the right size: no proposal",
    values = { db_pool_connections_active = 8 },
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "MinConns and MaxConns from the params",
    params = { min_conns = 10, max_conns = 30 },
    series = { { metric = "db_pool_connections_active", points = { {0, 2}, {10, 40} } } },
    knobs = pool(20),
    now = 0,
    steps = {
      { expect = { proposals = { db_pool_size = 10 } } },
      { expect = { proposals = { db_pool_size = 30 } } },
    },
  },
  {
    name = "without them, the knob's bounds",
    values = { db_pool_connections_active = 16 },
    knobs = pool(10, 5, 12),
    expect = { proposals = { db_pool_size = 12 } },
  },
  {
    name = "no reading: no proposal",
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "a pool at 0: the load in the reason is 0, not a division by zero",
    values = { db_pool_connections_active = 4 },
    knobs = pool(0, 0, 12),
    expect = { proposals = { db_pool_size = { value = 5, reason = "at load 0%.00 of 0" } } },
  },
}
