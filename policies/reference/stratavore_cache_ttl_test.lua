-- SPDX-License-Identifier: Apache-2.0
-- Tests of stratavore_cache_ttl.lua.

-- A counter growing at `rate` per second, sampled every 10 s over 5 minutes.
local function counter(metric, rate, labels)
  local points = {}
  for t = 0, 300, 10 do points[#points + 1] = { t, rate * t } end
  return { metric = metric, labels = labels, points = points }
end

local function traffic(hits, misses)
  return { counter("cache_hits_total", hits), counter("cache_misses_total", misses) }
end

local function ttl(value, min, max)
  return { cache_ttl_seconds = { value = value, min = min or 30, max = max or 7200 } }
end

return {
  {
    name = "hit ratio under 80 %: the TTL doubles",
    series = traffic(70, 30),
    knobs = ttl(600),
    expect = { proposals = { cache_ttl_seconds = { value = 1200, reason = "hit ratio 70.0%% < 80%%" } } },
  },
  {
    name = "hit ratio over 95 %: the TTL halves",
    series = traffic(99, 1),
    knobs = ttl(600),
    expect = { proposals = { cache_ttl_seconds = { value = 300, reason = "expire sooner" } } },
  },
  {
    name = "between 80 % and 95 %: no change",
    series = traffic(90, 10),
    knobs = ttl(600),
    expect = { no_proposal = true },
  },
  {
    name = "doubling stops at the knob's max",
    series = traffic(50, 50),
    knobs = ttl(5000),
    expect = { proposals = { cache_ttl_seconds = 7200 } },
  },
  {
    name = "at the max already: no proposal",
    series = traffic(50, 50),
    knobs = ttl(7200),
    expect = { no_proposal = true },
  },
  {
    name = "halving stops at the knob's min",
    series = traffic(100, 0),
    knobs = ttl(40),
    expect = { proposals = { cache_ttl_seconds = 30 } },
  },
  {
    name = "at the min already: no proposal",
    series = traffic(100, 0),
    knobs = ttl(30),
    expect = { no_proposal = true },
  },
  {
    name = "no traffic: nothing to learn from",
    series = traffic(0, 0),
    knobs = ttl(600),
    expect = { no_proposal = true },
  },
  {
    name = "no counters yet: no proposal",
    knobs = ttl(600),
    expect = { no_proposal = true },
  },
  {
    name = "one data type: only its series count",
    params = { type_value = "session", knob = "session_ttl_seconds" },
    series = {
      counter("cache_hits_total", 60, { type = "session" }), counter("cache_misses_total", 40, { type = "session" }),
      counter("cache_hits_total", 1000, { type = "query" }), counter("cache_misses_total", 1, { type = "query" }),
    },
    knobs = { session_ttl_seconds = { value = 3600, min = 60, max = 86400 } },
    expect = { proposals = { session_ttl_seconds = 7200 } },
  },
}
