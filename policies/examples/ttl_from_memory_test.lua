-- SPDX-License-Identifier: Apache-2.0
-- Tests of ttl_from_memory.lua.
local GiB = 2 ^ 30

-- Available memory over the last minute (its lowest value counts), of 16 GiB.
local function available(...)
  local points = {}
  for i, gib in ipairs({ ... }) do points[i] = { (i - 1) * 20, gib * GiB } end
  return {
    { metric = "node_memory_MemAvailable_bytes", points = points },
    { metric = "node_memory_MemTotal_bytes", points = { { (#points - 1) * 20, 16 * GiB } } },
  }
end

local function ttl(value, step)
  return { cache_ttl_seconds = { value = value, min = 60, max = 7200, baseline = 3600, step = step or 0 } }
end

return {
  {
    name = "short of memory: the TTL halves",
    series = available(8, 1, 8),
    knobs = ttl(3600),
    expect = { proposals = { cache_ttl_seconds = { value = 1800, reason = "6%% of memory available < 15%%" } } },
  },
  {
    name = "halving stops at the knob's min",
    series = available(1),
    knobs = ttl(100),
    expect = { proposals = { cache_ttl_seconds = 60 } },
  },
  {
    name = "plenty again: back to the baseline at once",
    series = available(8, 8, 8),
    knobs = ttl(900),
    expect = { proposals = { cache_ttl_seconds = { value = 3600, reason = "back toward the baseline" } } },
  },
  {
    name = "plenty again: by the knob's max step",
    series = available(8, 8, 8),
    knobs = ttl(900, 600),
    expect = { proposals = { cache_ttl_seconds = 1500 } },
  },
  {
    name = "plenty and at the baseline: no proposal",
    series = available(8, 8, 8),
    knobs = ttl(3600),
    expect = { no_proposal = true },
  },
  {
    name = "no total memory reading: no proposal",
    series = { available(1)[1] },
    knobs = ttl(3600),
    expect = { no_proposal = true },
  },
}
