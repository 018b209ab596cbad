-- SPDX-License-Identifier: Apache-2.0
-- Tests of pool_from_load.lua.

-- Cache misses (one query each) at `rate` per second over the last 10 s,
-- with the query time and the waiting clients at the end.
local function load(rate, query_seconds, waiting)
  local misses = {}
  for t = 0, 10, 2 do misses[#misses + 1] = { t, rate * t } end
  return {
    { metric = "cache_misses_total", points = misses },
    { metric = "db_query_duration_seconds", points = { { 10, query_seconds } } },
    { metric = "db_pool_clients_waiting", points = { { 10, waiting } } },
  }
end

local function pool(size)
  return { db_pool_size = { value = size, min = 1, max = 200 } }
end

return {
  {
    name = "a busy pool grows to busy / 0.7",
    series = load(100, 0.1, 0),
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 15, reason = "^grow: 100 q/s x 100 ms = 10.0 busy" } } },
  },
  {
    name = "waiting clients grow it by at least one",
    series = load(10, 0.1, 3),
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 11, reason = "3.0 waiting" } } },
  },
  {
    name = "a mostly idle pool shrinks",
    series = load(10, 0.1, 0),
    knobs = pool(10),
    expect = { proposals = { db_pool_size = { value = 2, reason = "^shrink" } } },
  },
  {
    name = "inside the band: no change",
    series = load(60, 0.1, 0),
    knobs = pool(10),
    expect = { no_proposal = true },
  },
  {
    name = "no query time yet: no proposal",
    series = { load(100, 0.1, 0)[1], load(100, 0.1, 0)[3] },
    knobs = pool(10),
    expect = { no_proposal = true },
  },
}
