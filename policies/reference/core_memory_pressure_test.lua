-- SPDX-License-Identifier: Apache-2.0
-- Tests of core_memory_pressure.lua.
local GiB = 2 ^ 30
local triggers = { gc_collect = 0, db_pool_close_idle = 0, cache_flush = 0 }

local function memory(share)
  return { process_resident_memory_bytes = share * GiB, process_memory_limit_bytes = GiB }
end

return {
  {
    name = "under 70 %: nothing to do",
    values = memory(0.5),
    knobs = triggers,
    expect = { no_proposal = true },
  },
  {
    name = "moderate (70 %): a collection",
    values = memory(0.75),
    knobs = triggers,
    expect = { proposals = { gc_collect = 1 }, log = "75%% of the limit: moderate pressure" },
  },
  {
    name = "high (85 %): a collection and the object pools cleared",
    values = memory(0.85),
    knobs = triggers,
    expect = { proposals = { gc_collect = 1, db_pool_close_idle = 1 }, log = "high pressure" },
  },
  {
    name = "critical (95 %): all caches cleared too",
    values = memory(0.97),
    knobs = triggers,
    expect = { proposals = { gc_collect = 1, db_pool_close_idle = 1, cache_flush = 1 }, log = "critical" },
  },
  {
    name = "a set-up without a cache skips that response",
    values = memory(0.99),
    knobs = { gc_collect = 4, db_pool_close_idle = 2 },
    expect = { proposals = { gc_collect = 5, db_pool_close_idle = 3 } },
  },
  {
    name = "the responses repeat while the level lasts",
    series = {
      { metric = "process_resident_memory_bytes", points = { {0, 0.8 * GiB}, {60, 0.8 * GiB} } },
      { metric = "process_memory_limit_bytes", points = { {0, GiB}, {60, GiB} } },
    },
    knobs = triggers,
    now = 0,
    steps = {
      { expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },
      { expect = { proposals = { gc_collect = 2 }, knobs = { gc_collect = 2 } } },
    },
  },
  {
    name = "other level boundaries from the params",
    params = { moderate = 0.5, high = 0.6, critical = 0.7 },
    values = memory(0.65),
    knobs = triggers,
    expect = { proposals = { gc_collect = 1, db_pool_close_idle = 1 } },
  },
  {
    name = "no limit known: no proposal",
    values = { process_resident_memory_bytes = GiB, process_memory_limit_bytes = 0 },
    knobs = triggers,
    expect = { no_proposal = true },
  },
}
