-- SPDX-License-Identifier: Apache-2.0
-- Tests of metric_interval.lua (run: trimtab test policies/metric_interval.lua).
local GiB = 2 ^ 30

-- Every series every 10 s over [from, to]: busy connections busy(t) in a
-- pool of 20, resident memory rss(t) against 2 GiB, and scrapes that cost
-- 50 ms at a 10 s interval (overhead 0.005). `drop` leaves metrics out.
local function world(from, to, busy, rss, drop)
  drop = drop or {}
  local series = {}
  local function add(metric, f)
    if drop[metric] then return end
    local points = {}
    for t = from, to, 10 do points[#points + 1] = { t, f(t) } end
    series[#series + 1] = { metric = metric, type = "gauge", points = points }
  end
  add("db_pool_connections_active", busy)
  add("db_pool_size", function() return 20 end)
  add("process_resident_memory_bytes", rss)
  add("process_memory_limit_bytes", function() return 2 * GiB end)
  add("monitoring_overhead_ratio", function() return 0.005 end)
  add("monitoring_scrape_interval_seconds", function() return 10 end)
  return series
end

-- Steady with a little noise: no trend, far from the limit in standard deviations.
local function steady(level)
  return function(t) return level * (1 + 0.01 * ((t // 10) % 2 == 0 and 1 or -1)) end
end
local function flat(level) return function() return level end end
-- Alternating a (at multiples of 20 s) and b after `from`, steady (a + b) / 2 before.
local function swing(a, b, from)
  return function(t)
    if t < (from or 0) then return (a + b) / 2 end
    return (t // 10) % 2 == 0 and a or b
  end
end
-- Resident memory reaching 2 GiB at `cross`, rising 200 KiB/s.
local function leak(cross)
  return function(t) return 2 * GiB - 200 * 1024 * (cross - t) end
end

local function at(interval, min, max)
  return { scrape_interval_seconds = { value = interval, min = min or 1, max = max or 120, integer = false } }
end

local quiet = world(0, 4500, steady(10), steady(3e8))
local busy = "db_pool_connections_active"

return {
  {
    name = "quiet: the 0.1 % budget allows 50 s, but only after 15 calm minutes",
    series = quiet,
    knobs = at(10),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state = { calm_since = 3600, calm_want = 50, calm_why = "quiet" } } },
      { at = 4000, expect = { no_proposal = true } },
      { at = 4500, expect = { proposals = { scrape_interval_seconds = { value = 50, reason = "^calm for 900 s: quiet" } },
                              knobs = { scrape_interval_seconds = 50 }, state_nil = { "calm_since", "calm_want" } } },
      { at = 4505, expect = { no_proposal = true, state_nil = "calm_since" } },
    },
  },
  {
    name = "a busy moment restarts the calm period and speeds up at once",
    series = world(0, 4500, function(t) return t == 3900 and 19 or steady(10)(t) end, steady(3e8)),
    knobs = at(10),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state = { calm_since = 3600 } } },
      { at = 3900, expect = { proposals = { scrape_interval_seconds = { value = 5, reason = busy .. " at 95%% of its limit" } },
                              state_nil = "calm_since" } },
      { at = 3910, expect = { no_proposal = true, state = { calm_since = 3910, calm_want = 50 } } },
      { at = 4500, expect = { no_proposal = true } },
    },
  },
  {
    name = "slows down to the fastest interval wished during the calm period",
    series = world(0, 4500, function(t)
      if t > 3400 and t <= 3700 then return swing(12, 8)(t) end
      return steady(10)(t)
    end, steady(3e8)),
    knobs = at(5),
    now = 3400,
    steps = {
      { expect = { no_proposal = true, state = { calm_want = 50 } } },
      { at = 3700, expect = { no_proposal = true, state = { calm_since = 3400, calm_want = 10 } } },
      { at = 4300, expect = { proposals = { scrape_interval_seconds = { value = 10, reason = "calm for 900 s: " .. busy .. " [0-9.]+ standard deviations" } } } },
    },
  },
  {
    name = "near the limit: the fastest interval at once",
    series = world(0, 3600, steady(19), steady(3e8)),
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 5, reason = "at 9[0-9]%% of its limit" } } },
  },
  {
    name = "already at the fastest interval: nothing to do",
    series = world(0, 3600, steady(19), steady(3e8)),
    knobs = at(5),
    expect = { no_proposal = true, state_nil = "calm_since" },
  },
  {
    name = "swinging 4 standard deviations below the limit: the 0.5 % budget, 10 s",
    series = world(0, 3600, swing(12, 8), steady(3e8)),
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 10, reason = busy .. " 4%.0 standard deviations from its limit" } } },
  },
  {
    name = "swinging within 3 standard deviations of the limit: fast",
    series = world(0, 3600, swing(14, 6), steady(3e8)),
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 5, reason = busy .. " 1%.5 standard deviations" } } },
  },
  {
    name = "swinging far below the limit is no risk",
    series = world(0, 3600, swing(2, 0), steady(3e8)),
    knobs = at(10),
    expect = { no_proposal = true, state = { calm_want = 50 } },
  },
  {
    name = "the thresholds are params",
    series = world(0, 3600, swing(12, 8), steady(3e8)),
    params = { z_near = 5, z_fast = 4.5 },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = 5 } },
  },
  {
    name = "memory crossing its limit in 25 min: at least the volatile rate",
    series = world(0, 3600, steady(10), leak(3600 + 1500)),
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 10, reason = "process_resident_memory_bytes reaches its limit in 1[45]%d%d s" } } },
  },
  {
    name = "a short ETA divided by the samples wanted before it, on the ladder from fast",
    series = world(0, 3600, steady(10), leak(3600 + 1500)),
    params = { quiet_budget = 0.0001, volatile_budget = 0.0005 },
    knobs = at(120),
    expect = { proposals = { scrape_interval_seconds = 80 } },
  },
  {
    name = "never under fast",
    series = world(0, 3600, steady(10), leak(3600 + 1500)),
    params = { samples_before_limit = 200 },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = 5 } },
  },
  {
    name = "a crossing beyond the horizon does not count",
    series = world(0, 3600, steady(10), leak(3600 + 1500)),
    params = { eta_horizon = "20m" },
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "too little history: not calm, nothing proposed",
    series = world(0, 20, steady(10), steady(3e8)),
    knobs = at(10),
    expect = { no_proposal = true, state_nil = "calm_since" },
  },
  {
    name = "enough for the ETA but not for the window: not calm",
    series = world(0, 3600, steady(10), steady(3e8)),
    params = { min_points = 1000 },
    knobs = at(10),
    expect = { no_proposal = true, state_nil = "calm_since" },
  },
  {
    name = "the window covers min_points + 1 scrapes at the current interval",
    series = world(0, 3600, steady(10), steady(3e8)),
    params = { min_points = 100 },
    knobs = at(10),
    expect = { no_proposal = true, state = { calm_want = 50 } },
  },
  {
    name = "an idle pool is quiet",
    series = world(0, 3600, flat(0), steady(3e8)),
    knobs = at(10),
    expect = { no_proposal = true, state = { calm_want = 50 } },
  },
  {
    name = "the scrape cost from a param when no metric gives it: 20 ms at 0.1 % is 20 s",
    series = world(0, 3600, steady(10), steady(3e8), { monitoring_overhead_ratio = true, monitoring_scrape_interval_seconds = true }),
    params = { overhead_metric = "", scrape_cpu = "20ms" },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 20, reason = "^quiet" } } },
  },
  {
    name = "free scrapes: scrape at the fast rate",
    series = world(0, 3600, steady(10), steady(3e8), { monitoring_overhead_ratio = true }),
    params = { overhead_metric = "", scrape_cpu = 0 },
    knobs = at(10),
    expect = { proposals = { scrape_interval_seconds = 5 } },
  },
  {
    name = "slowest caps the quiet interval",
    series = quiet,
    params = { slowest = "30s" },
    knobs = at(10),
    now = 3600,
    expect = { no_proposal = true, state = { calm_want = 30 } },
  },
  {
    name = "the knob's bounds cap both ends",
    series = world(0, 3600, steady(19), steady(3e8)),
    knobs = at(50, 8, 40),
    expect = { proposals = { scrape_interval_seconds = 8 } },
  },
  {
    name = "a fixed limit instead of a limit metric: utilisation against 1",
    series = (function()
      local s = world(0, 3600, steady(10), steady(3e8), { db_pool_connections_active = true, db_pool_size = true })
      local points = {}
      for t = 0, 3600, 10 do points[#points + 1] = { t, 0.95 } end
      s[#s + 1] = { metric = "db_pool_utilization_ratio", type = "gauge", points = points }
      return s
    end)(),
    params = { watch_metric = "db_pool_utilization_ratio", watch_limit_metric = "", watch_limit = 1 },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 5, reason = "db_pool_utilization_ratio at 95%%" } } },
  },
  {
    name = "several pools and no `match` to pick one: no prediction, no proposal",
    series = (function()
      local s = world(0, 3600, steady(10), steady(3e8))
      local points = {}
      for t = 0, 3600, 10 do points[#points + 1] = { t, 3 } end
      s[#s + 1] = { metric = busy, labels = { database = "other" }, type = "gauge", points = points }
      return s
    end)(),
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "memory_match picks the process whose memory is watched (and its limit)",
    series = (function()
      local s = world(0, 3600, steady(10), leak(3600 + 1500))
      for _, x in ipairs(s) do
        if x.metric == "process_resident_memory_bytes" or x.metric == "process_memory_limit_bytes" then
          x.labels = { pod = "a" }
        end
      end
      local points = {}
      for t = 0, 3600, 10 do points[#points + 1] = { t, 3e8 } end
      s[#s + 1] = { metric = "process_resident_memory_bytes", labels = { pod = "b" }, type = "gauge", points = points }
      return s
    end)(),
    params = { memory_match = { pod = "a" } },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = { value = 10, reason = "reaches its limit" } } },
  },
  {
    name = "a live set-up: memory against a limit given in bytes",
    series = world(0, 3600, steady(10), leak(3600 + 1500), { process_memory_limit_bytes = true }),
    params = { memory_limit_metric = "", memory_limit = "2GiB" },
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = 10 } },
  },
  {
    name = "a limit of 0 means none",
    series = world(0, 3600, steady(10), leak(3600 + 1500), { process_memory_limit_bytes = true }),
    params = { memory_limit_metric = "" },
    knobs = at(10),
    expect = { no_proposal = true, state = { calm_want = 50 } },
  },
  {
    name = "both watches off: only the budget",
    series = world(0, 3600, steady(10), steady(3e8)),
    params = { watch_metric = "", memory_metric = "" },
    knobs = at(10),
    expect = { no_proposal = true, state = { calm_want = 50 } },
  },
  {
    name = "watched metric missing: no proposal",
    series = world(0, 3600, steady(10), steady(3e8), { db_pool_connections_active = true }),
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "memory limit missing: no proposal",
    series = world(0, 3600, steady(19), steady(3e8), { process_memory_limit_bytes = true }),
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "scrape cost missing: no proposal",
    series = world(0, 3600, steady(19), steady(3e8), { monitoring_overhead_ratio = true }),
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "a watched series that stopped reporting: no prediction, no proposal",
    series = (function()
      local s = world(0, 3600, steady(10), steady(3e8), { db_pool_connections_active = true })
      s[#s + 1] = { metric = busy, type = "gauge", points = { {0, 10}, {10, 10} } }
      return s
    end)(),
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "a stopped series at its limit: the governor vetoes the stale speed-up",
    series = (function()
      local s = world(0, 3600, steady(10), steady(3e8), { db_pool_connections_active = true })
      s[#s + 1] = { metric = busy, type = "gauge", points = { {0, 19}, {10, 19} } }
      return s
    end)(),
    knobs = at(50),
    expect = { proposals = { scrape_interval_seconds = 5 }, knobs = { scrape_interval_seconds = 50 } },
  },
  {
    name = "no sample in the window: no proposal",
    series = world(0, 2000, steady(10), steady(3e8)),
    now = 3000,
    knobs = at(50),
    expect = { no_proposal = true },
  },
  {
    name = "no knob: nothing",
    series = quiet,
    knobs = { db_pool_size = 20 },
    expect = { no_proposal = true },
  },
}
