-- SPDX-License-Identifier: Apache-2.0
-- Tests of core_concurrency_limit.lua.
local GiB = 2 ^ 30

local function memory(share)
  return { process_resident_memory_bytes = share * GiB, process_memory_limit_bytes = GiB }
end

local function pool(size)
  return { db_pool_size = { value = size, min = 1, max = 100 } }
end

return {
  {
    name = "from 85 % memory the pool is limited to 5",
    values = memory(0.9),
    knobs = pool(20),
    expect = { proposals = { db_pool_size = { value = 5, reason = "memory at 90%%" } } },
  },
  {
    name = "under 70 % it returns to 20",
    values = memory(0.5),
    knobs = pool(5),
    expect = { proposals = { db_pool_size = 20 } },
  },
  {
    name = "between 70 % and 85 % it holds",
    values = memory(0.75),
    knobs = pool(5),
    expect = { no_proposal = true },
  },
  {
    name = "already limited: no proposal",
    values = memory(0.95),
    knobs = pool(5),
    expect = { no_proposal = true },
  },
  {
    name = "no limit known: no proposal",
    values = { process_resident_memory_bytes = GiB, process_memory_limit_bytes = 0 },
    knobs = pool(20),
    expect = { no_proposal = true },
  },
  {
    name = "down under pressure, held in the band, back when it is over",
    series = {
      { metric = "process_resident_memory_bytes", points = { {0, 0.9 * GiB}, {60, 0.8 * GiB}, {120, 0.6 * GiB} } },
      { metric = "process_memory_limit_bytes", points = { {0, GiB}, {60, GiB}, {120, GiB} } },
    },
    knobs = pool(20),
    now = 0,
    steps = {
      { expect = { proposals = { db_pool_size = 5 }, knobs = { db_pool_size = 5 } } },
      { expect = { no_proposal = true, knobs = { db_pool_size = 5 } } },
      { expect = { proposals = { db_pool_size = 20 }, knobs = { db_pool_size = 20 } } },
    },
  },
}
