-- SPDX-License-Identifier: Apache-2.0
-- Tests of memory_guard.lua (the simulator's policy).
local GiB = 2 ^ 30

-- Resident memory over the last 5 minutes with a peak, against a 1 GiB limit.
local function memory(low, peak)
  return {
    { metric = "process_resident_memory_bytes", points = { {0, low * GiB}, {100, peak * GiB}, {200, low * GiB} } },
    { metric = "process_memory_limit_bytes", points = { {200, GiB} } },
  }
end

local function knobs(gc, cache, baseline)
  return {
    gc_percent = { value = gc, min = 1, max = 100000, integer = false },
    cache_capacity_entries = { value = cache, min = 0, max = 1e9, baseline = baseline or 100000 },
  }
end

return {
  {
    name = "peaks over 80 %: a smaller GC target",
    series = memory(0.5, 0.85),
    knobs = knobs(100, 100000),
    expect = { proposals = { gc_percent = { value = 70, reason = "peaks at 85%%" } } },
  },
  {
    name = "peaks over 90 %: the cache shrinks too",
    series = memory(0.5, 0.95),
    knobs = knobs(100, 100000),
    expect = { proposals = { gc_percent = 70, cache_capacity_entries = 70000 } },
  },
  {
    name = "the GC target stops at its floor, the cache at its minimum",
    series = memory(0.5, 0.95),
    knobs = knobs(20, 1000),
    expect = { no_proposal = true },
  },
  {
    name = "peaks under 65 %: both given back",
    series = memory(0.3, 0.6),
    knobs = knobs(49, 49000),
    expect = { proposals = { gc_percent = 70, cache_capacity_entries = 70000 } },
  },
  {
    name = "given back up to the defaults only",
    series = memory(0.3, 0.6),
    knobs = knobs(100, 100000),
    expect = { no_proposal = true },
  },
  {
    name = "between 65 % and 80 %: hold",
    series = memory(0.5, 0.7),
    knobs = knobs(50, 50000),
    expect = { no_proposal = true },
  },
  {
    name = "no limit: no proposal",
    series = { memory(0.5, 0.95)[1] },
    knobs = knobs(100, 100000),
    expect = { no_proposal = true },
  },
}
