-- SPDX-License-Identifier: Apache-2.0
-- Tests of ttl_from_staleness.lua (the simulator's policy).

-- Hits and stale hits per second, sampled every 30 s up to `last` (600).
local function reads(hits, stale, last)
  local h, s = {}, {}
  for t = 0, last or 600, 30 do
    h[#h + 1] = { t, hits * t }
    s[#s + 1] = { t, stale * t }
  end
  return { { metric = "cache_hits_total", points = h }, { metric = "cache_stale_reads_total", points = s } }
end

local function ttl(value, max)
  return { cache_ttl_seconds = { value = value, min = 30, max = max or 86400, integer = false } }
end

return {
  {
    name = "too many stale hits: a shorter TTL",
    series = reads(100, 1),
    knobs = ttl(3600),
    expect = { proposals = { cache_ttl_seconds = { value = 2400, reason = "1.000%% of hits stale" } },
               state = { changed = 600 } },
  },
  {
    name = "room under the target: a longer TTL",
    series = reads(1000, 1),
    knobs = ttl(3600),
    expect = { proposals = { cache_ttl_seconds = 5400 } },
  },
  {
    name = "near the target: hold",
    series = reads(1000, 4),
    knobs = ttl(3600),
    expect = { no_proposal = true },
  },
  {
    name = "at the knob's max already: no proposal",
    series = reads(1000, 1),
    knobs = ttl(3600, 3600),
    expect = { no_proposal = true },
  },
  {
    name = "after a change it waits one window for the measurement",
    series = reads(100, 1, 1200),
    knobs = ttl(3600),
    now = 600,
    steps = {
      { expect = { proposals = { cache_ttl_seconds = 2400 } } },
      { expect = { no_proposal = true } },
      { at = 1200, expect = { proposals = { cache_ttl_seconds = 1600 } } },
    },
  },
  {
    name = "a window given in seconds",
    params = { window = "300" },
    series = reads(100, 1, 1200),
    knobs = ttl(3600),
    now = 600,
    steps = {
      { expect = { proposals = { cache_ttl_seconds = 2400 } } },
      { at = 900, expect = { proposals = { cache_ttl_seconds = 1600 } } },
    },
  },
  {
    name = "no hits: no proposal",
    series = reads(0, 0),
    knobs = ttl(3600),
    expect = { no_proposal = true },
  },
}
