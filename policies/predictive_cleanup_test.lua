-- SPDX-License-Identifier: Apache-2.0
-- Tests of predictive_cleanup.lua: the settings ahead of a leak (GC target
-- first, the cache late, back when there is room) and the action ladder
-- when the limit is minutes away (cheapest first, one rung at a time, stop
-- when it was enough), and the planned restart (settings at their floors, the
-- limit within the budget: at a quiet moment, else at the deadline; the
-- ladder's last rung). ctx.predict answers from the series given.
local GiB = 2 ^ 30
local MiB = 2 ^ 20

-- Resident memory f(t) every 10 s over [t0, t1] (share of the 1 GiB limit),
-- with a small ripple so that the series is not a perfect line.
local function memory(t0, t1, f, extra)
  local used, limit = {}, {}
  for t = t0, t1, 10 do
    used[#used + 1] = { t, (f(t) + 0.002 * math.sin(t)) * GiB }
    limit[#limit + 1] = { t, GiB }
  end
  local out = {
    { metric = "process_resident_memory_bytes", points = used },
    { metric = "process_memory_limit_bytes", points = limit },
  }
  for _, s in ipairs(extra or {}) do out[#out + 1] = s end
  return out
end

-- A gauge or counter over [t0, t1] every 10 s.
local function gauge(name, t0, t1, f)
  local pts = {}
  for t = t0, t1, 10 do pts[#pts + 1] = { t, f(t) } end
  return { metric = name, points = pts }
end

local function settings(gc, cap, cap_base)
  return {
    gc_percent = { value = gc, min = 5, max = 100, baseline = 100, integer = false },
    cache_capacity_entries = { value = cap, min = 100, max = 100000, baseline = cap_base or 100000 },
  }
end

local function all_knobs(gc, cap)
  local k = settings(gc, cap)
  k.gc_collect, k.db_pool_close_idle, k.cache_flush = 0, 0, 0
  k.cache_trim = { value = 0, min = 0, max = 1, integer = false }
  return k
end

-- Slow leak: 70 % rising 5 points an hour (95 % in about 4 h).
local function slow(t) return 0.70 + 0.05 * t / 3600 end
-- Fast leak: 80 % rising 8 points an hour (95 % within the hour).
local function fast(t) return 0.80 + 0.08 * t / 3600 end
-- Imminent: 80 % rising 18 points an hour: the limit at t = 4000.
local function imminent(t) return 0.80 + 0.18 * t / 3600 end

local NO_GC_COST = { gc_cpu_metric = "" }
-- The ladder's cases start with the limit minutes away: no start-up wait.
local LADDER = { gc_cpu_metric = "", min_history = 0 }

-- A counter of requests whose rate is rate(t) (piecewise constant on the
-- given breakpoints: { {from, rps}, ... }), every 10 s over [t0, t1].
local function requests(t0, t1, pieces)
  local pts, total, last = {}, 0, 0
  local function rate(t)
    local r = pieces[1][2]
    for _, piece in ipairs(pieces) do if t >= piece[1] then r = piece[2] end end
    return r
  end
  for t = 0, t1, 10 do
    total = total + rate(last) * (t - last)
    last = t
    if t >= t0 then pts[#pts + 1] = { t, total } end
  end
  return { metric = "app_requests_total", points = pts }
end

-- The settings at their baselines (the GC target above its floor, the
-- cache at its floor) and the restart trigger.
local function at_baselines()
  return {
    gc_percent = { value = 10, min = 5, max = 100, baseline = 10 },
    cache_capacity_entries = { value = 100, min = 100, max = 100000, baseline = 100 },
    process_restart = 0,
  }
end

-- Knobs with the planned restart: settings (GC target `gc`) and the triggers.
local function restart_knobs(gc, cap)
  local k = all_knobs(gc, cap)
  k.process_restart = 0
  return k
end

-- Crossing the limit in about 10 h: within restart_within, far from the
-- ladder, and 95 % more than `lead` away (the settings stay put).
local function creeping(t) return 0.80 + 0.018 * t / 3600 end

return {
  {
    name = "a leak reaching 95 % within 6 h: the GC target steps down first",
    series = memory(0, 3600, slow),
    params = NO_GC_COST,
    knobs = settings(100, 100000),
    now = 3600,
    expect = { proposals = { gc_percent = { value = 70, reason = "leak: peaks at 75%% of the limit, 95%% in" } },
               state = { set_at = 3600 } },
  },
  {
    name = "one settings change per settle",
    series = memory(0, 4600, slow),
    params = NO_GC_COST,
    knobs = settings(100, 100000),
    now = 3600,
    steps = {
      { expect = { proposals = { gc_percent = 70 }, knobs = { gc_percent = 70 } } },
      { advance = 600, expect = { no_proposal = true } },
      { advance = 300, expect = { proposals = { gc_percent = 49 } } },
    },
  },
  {
    name = "the GC target within the GC CPU budget only; the cache is kept while the crossing is hours away",
    series = memory(0, 3600, slow, { gauge("gc_cpu_seconds_total", 3000, 3600, function(t) return 0.2 * t end) }),
    knobs = settings(10, 100000),
    now = 3600,
    expect = { no_proposal = true },  -- 0.2 x 10 / 7 > 0.25; 95 % is 4 h away > cache_lead
  },
  {
    name = "the GC target at its floor and the crossing within cache_lead: the cache steps down",
    series = memory(0, 3600, fast),
    params = NO_GC_COST,
    knobs = settings(5, 100000),
    now = 3600,
    expect = { proposals = { cache_capacity_entries = 70000 } },
  },
  {
    name = "over the GC CPU budget: the cache instead",
    series = memory(0, 3600, fast, { gauge("gc_cpu_seconds_total", 3000, 3600, function(t) return 0.2 * t end) }),
    knobs = settings(10, 100000),
    now = 3600,
    expect = { proposals = { cache_capacity_entries = 70000 } },
  },
  {
    name = "a cheap GC is lowered",
    series = memory(0, 3600, fast, { gauge("gc_cpu_seconds_total", 3000, 3600, function(t) return 0.01 * t end) }),
    knobs = settings(10, 100000),
    now = 3600,
    expect = { proposals = { gc_percent = 7 } },
  },
  {
    name = "an unlimited cache steps down from its entries",
    series = memory(0, 3600, fast, { gauge("cache_entries", 3000, 3600, function() return 50000 end) }),
    params = NO_GC_COST,
    knobs = settings(5, 0, 0),
    now = 3600,
    expect = { proposals = { cache_capacity_entries = 35000 } },
  },
  {
    name = "everything at its floor: nothing left to tighten",
    series = memory(0, 3600, fast),
    params = NO_GC_COST,
    knobs = settings(5, 100),
    now = 3600,
    expect = { no_proposal = true },
  },
  {
    name = "a trend below tighten_above: left alone, and no room to loosen either",
    series = memory(0, 3600, function(t) return 0.45 + 0.2 * t / 3600 end),
    params = NO_GC_COST,
    knobs = settings(50, 50000),
    now = 3600,
    expect = { no_proposal = true },
  },
  {
    name = "room again (after a restart): the cache back to what fits, then the GC target",
    series = memory(0, 4500, function() return 0.1 end),
    knobs = settings(5, 1000),
    now = 3600,
    steps = {
      { values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
        expect = { proposals = { cache_capacity_entries = { value = 100000, reason = "headroom" } } } },
      { advance = 900, values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
        expect = { proposals = { gc_percent = 100 } } },
    },
  },
  {
    name = "the cache counted full leaves no room for a larger heap",
    series = memory(0, 3600, function() return 0.45 end),
    values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
    knobs = settings(5, 100000),
    now = 3600,
    expect = { no_proposal = true },
  },
  {
    name = "an unlimited cache gets back to unlimited",
    series = memory(0, 3600, function() return 0.2 end),
    values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
    knobs = settings(100, 1000, 0),
    now = 3600,
    expect = { proposals = { cache_capacity_entries = 0 } },
  },
  {
    name = "the limit minutes away: a collection first",
    series = memory(0, 3600, imminent),
    params = LADDER,
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { gc_collect = { value = 1, reason = "collect: limit in" } }, state = { rung = 1 } },
  },
  {
    name = "the limit minutes away in the policy's first min_history: no action yet (a start-up's ramp)",
    series = memory(0, 3900, imminent),
    params = NO_GC_COST,
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state_nil = "acted", log = "only 0 s of history: no action yet" } },
      { at = 3885, expect = { no_proposal = true } },
      { at = 3900, expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },
    },
  },
  {
    name = "a collection with a short pause is fine",
    series = memory(0, 3600, imminent, {
      gauge("gc_cpu_seconds_total", 3300, 3600, function(t) return 0.01 * t end),
      gauge("gc_collections_total", 3300, 3600, function(t) return t end),
    }),
    params = { min_history = 0 },
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { gc_collect = 1 } },
  },
  {
    name = "a collection that would pause too long is skipped: a trim first",
    series = memory(0, 3600, imminent, {
      gauge("gc_cpu_seconds_total", 3300, 3600, function(t) return t end),  -- 1 s of CPU a second,
      gauge("gc_collections_total", 3300, 3600, function(t) return t end),  -- 1 collection a second
    }),
    values = { cache_memory_bytes = 300 * MiB },
    params = { min_history = 0 },
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { cache_trim = 0.3 }, log = "skip collect: a collection would pause 1.00 s" },
  },
  {
    name = "still close after each action: one rung up, the flush last and only at the end",
    series = memory(0, 3990, imminent, {
      gauge("cache_memory_bytes", 3000, 3990, function() return 300 * MiB end),
      gauge("db_pool_connections_idle", 3000, 3990, function() return 3 end),
    }),
    params = LADDER,
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { proposals = { gc_collect = 1 } } },
      { at = 3630, expect = { no_proposal = true } },  -- waiting settle_action
      { at = 3660, expect = { proposals = { cache_trim = 0.3 }, log = "still close after collect" } },
      { at = 3720, expect = { proposals = { db_pool_close_idle = 1 } } },
      { at = 3780, expect = { no_proposal = true, log = "nothing left that helps" } },  -- flush: not yet
      { at = 3930, expect = { proposals = { cache_flush = 1 }, state = { rung = 4 } } },
    },
  },
  {
    name = "the restart is the ladder's last rung: when nothing cheaper can be done now",
    series = memory(0, 4100, imminent, {
      gauge("cache_memory_bytes", 3000, 4100, function() return 300 * MiB end),
      gauge("db_pool_connections_idle", 3000, 4100, function() return 3 end),
    }),
    params = LADDER,
    knobs = restart_knobs(10, 100),  -- (started at 3600: no planned restart within its first window)
    now = 3600,
    steps = {
      { expect = { proposals = { gc_collect = 1 } } },
      { at = 3660, expect = { proposals = { cache_trim = 0.3 } } },
      { at = 3720, expect = { proposals = { db_pool_close_idle = 1 } } },
      { at = 3780, expect = { proposals = { process_restart = { value = 1, reason = "restart: limit in" } },
                              log = "skip flush: not yet", state = { restarts = 1, restarted_at = 3780 },
                              state_nil = { "rung", "acted", "fired" } } },
      -- the restart was not enough (the series does not know it happened):
      -- the ladder again, but no second restart within restart_min_interval
      { at = 3840, expect = { proposals = { gc_collect = 2 } } },
      { at = 3900, expect = { proposals = { cache_trim = 0.2997 } } },
      { at = 3960, expect = { proposals = { db_pool_close_idle = 2 } } },
      { at = 4020, expect = { proposals = { cache_flush = 1 } } },
      { at = 4080, expect = { no_proposal = true, log = "skip restart: restarted 300 s ago" } },
    },
  },
  {
    name = "the settings tightened, the limit still within 12 h: the restart waits for a quiet moment",
    series = memory(0, 7200, creeping, { requests(1000, 7200, { { 0, 100 }, { 5000, 300 }, { 6600, 100 } }) }),
    params = { gc_cpu_metric = "", load_every = 60, load_min_samples = 4 },
    knobs = restart_knobs(5, 100),
    now = 2000,
    steps = {
      { expect = { no_proposal = true } },  -- a full window of history first
      { at = 2100, expect = { no_proposal = true } },
      { at = 2200, expect = { no_proposal = true, state = { load = { 100, 100, 100 } } } },
      { at = 5500, expect = { no_proposal = true, state = { rps = 300 } } },
      -- 300 req/s is above the median of 100, 100, 100, 300
      { at = 5815, expect = { no_proposal = true,
                              log = "waiting for a quiet moment to restart: leak: limit in 9%.%d h.*300 req/s, quiet at 100" } },
      { at = 7000, expect = { no_proposal = true, state = { rps = 100 } } },
      { at = 7015, expect = { proposals = { process_restart = { value = 1, reason = "quiet restart: leak" } },
                              knobs = { process_restart = 1 }, state = { restarted_at = 7015 } } },
      { at = 7100, expect = { no_proposal = true } },  -- not twice within restart_min_interval
    },
  },
  {
    name = "the load history is a ring of the last load_history samples: old troughs do not hold a restart back",
    series = memory(0, 7200, creeping, { requests(1000, 7200, { { 0, 100 }, { 5000, 300 } }) }),
    params = { gc_cpu_metric = "", load_every = 60, load_min_samples = 3, load_history = 3 },
    knobs = restart_knobs(5, 100),
    now = 2000,
    steps = {
      { expect = { no_proposal = true } },
      { at = 2100, expect = { no_proposal = true } },
      { at = 2200, expect = { no_proposal = true, state = { load = { 100, 100, 100 }, load_next = 3 } } },
      -- the fourth sample takes the oldest one's place
      { at = 5500, expect = { no_proposal = true, state = { load = { 300, 100, 100 }, load_next = 1 } } },
      -- judged on 300, 100, 100 (sampled after the decision): not quiet
      { at = 5815, expect = { no_proposal = true, log = "quiet at 100", state = { load = { 300, 300, 100 } } } },
      -- 300, 300, 100: 300 req/s is at the 0.4 quantile, so quiet (with
      -- every sample kept, 100, 100, 100, 300, 300, it would wait for 100)
      { at = 5900, expect = { proposals = { process_restart = { value = 1, reason = "quiet restart: leak" } } } },
    },
  },
  {
    name = "no quiet moment: the restart at the deadline, before the ladder",
    series = memory(0, 7300, function(t) return 0.80 + 0.08 * t / 3600 end,  -- the limit at 9000
                    { requests(0, 7300, { { 0, 100 }, { 3000, 300 } }) }),
    params = { gc_cpu_metric = "", load_every = 60, load_min_samples = 4 },
    knobs = restart_knobs(5, 100),
    now = 100,
    steps = {
      { expect = {} },
      { at = 200, expect = {} },
      { at = 300, expect = {} },
      { at = 400, expect = {} },
      { at = 3500, expect = { state = { rps = 300 } } },
      { at = 3750, expect = { no_proposal = true, log = "waiting for a quiet" } },
      { at = 7000, expect = { no_proposal = true } },
      { at = 7300, expect = { proposals = { process_restart = { value = 1, reason = "restart at the deadline" } } } },
    },
  },
  {
    name = "without a load metric every moment is quiet, and its absence vetoes nothing",
    series = memory(0, 3600, creeping),
    params = NO_GC_COST,
    knobs = restart_knobs(5, 100),
    now = 0,
    steps = {
      { expect = {} },
      { at = 3600, expect = { proposals = { process_restart = { value = 1, reason = "no load history" } },
                              knobs = { process_restart = 1 } } },
    },
  },
  {
    name = "the settings at their baselines: no planned restart, unless nothing is left to tighten",
    series = memory(0, 3600, creeping, { gauge("gc_cpu_seconds_total", 0, 3600, function(t) return 0.2 * t end) }),
    params = { load_metric = "" },
    knobs = at_baselines(),
    now = 0,
    steps = {
      { expect = {} },
      -- the GC CPU budget stops the GC target, the cache is at its floor
      { at = 3600, expect = { proposals = { process_restart = 1 } } },
    },
  },
  {
    name = "a GC target below its baseline is a tightening: the restart",
    series = memory(0, 3600, creeping),
    params = { gc_cpu_metric = "", load_metric = "" },
    knobs = {
      gc_percent = { value = 50, min = 10, max = 100, baseline = 100 },
      cache_capacity_entries = { value = 100000, min = 100, max = 100000, baseline = 100000 },
      process_restart = 0,
    },
    now = 0,
    steps = { { expect = {} }, { at = 3600, expect = { proposals = { process_restart = 1 } } } },
  },
  {
    name = "a cache below its baseline is a tightening: the restart",
    series = memory(0, 3600, creeping),
    params = { gc_cpu_metric = "", load_metric = "" },
    knobs = {
      gc_percent = { value = 100, min = 10, max = 100, baseline = 100 },
      cache_capacity_entries = { value = 50000, min = 100, max = 100000, baseline = 0 },  -- 0: unlimited
      process_restart = 0,
    },
    now = 0,
    steps = { { expect = {} }, { at = 3600, expect = { proposals = { process_restart = 1 } } } },
  },
  {
    name = "a GC target that can still go down, or an unlimited cache, at their baselines: no planned restart",
    series = memory(0, 3600, creeping),
    params = NO_GC_COST,
    knobs = {
      gc_percent = { value = 10, min = 5, max = 100, baseline = 10 },
      cache_capacity_entries = { value = 0, min = 100, max = 100000, baseline = 0 },
      process_restart = 0,
    },
    now = 0,
    steps = {
      { expect = {} },
      { at = 3600, expect = { no_proposal = true } },
      { at = 3615, knobs = { gc_percent = { value = 5, baseline = 5 } }, expect = { no_proposal = true } },
    },
  },
  {
    name = "settings tightened and no leak in sight: no restart",
    series = memory(0, 3600, function() return 0.85 end),
    params = NO_GC_COST,
    knobs = restart_knobs(5, 100),
    now = 0,
    steps = {
      { expect = {} },
      { at = 3600, expect = { no_proposal = true } },
    },
  },
  {
    name = "restart_knob \"\" disables the restart, planned and in the ladder",
    series = memory(0, 3600, imminent, { gauge("cache_memory_bytes", 0, 3600, function() return 10 * MiB end),
                                          gauge("db_pool_connections_idle", 0, 3600, function() return 0 end) }),
    params = { gc_cpu_metric = "", restart_knob = "", collect_knob = "" },
    knobs = restart_knobs(5, 100),
    now = 0,
    steps = {
      { expect = {} },
      { at = 3600, expect = { no_proposal = true, log = { "skip restart: no knob", "nothing left that helps" } } },
    },
  },
  {
    name = "a trim of the current fraction is nudged; an integer trim knob is skipped",
    series = memory(0, 3600, imminent, { gauge("cache_memory_bytes", 3000, 3600, function() return 300 * MiB end) }),
    params = { min_history = 0, gc_cpu_metric = "", collect_knob = "none", trim_fraction = 0.5 },
    knobs = { cache_trim = { value = 0.5, min = 0, max = 1, integer = false } },
    now = 3600,
    steps = {
      { expect = { proposals = { cache_trim = 0.4995 } } },
      { at = 4200, knobs = { cache_trim = { value = 0, min = 0, max = 1, integer = true } },
        expect = { no_proposal = true } },
    },
  },
  {
    name = "enough: the memory came down, no escalation, the ladder resets after calm",
    series = memory(0, 5400, function(t) return t <= 3600 and imminent(t) or 0.5 end),
    params = LADDER,
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { proposals = { gc_collect = 1 } } },
      -- nothing else can help (no cache, no idle connection), and the
      -- prediction soon sees the drop: no close crossing, calm
      { at = 3700, expect = { no_proposal = true } },
      { at = 4000, expect = { no_proposal = true, state = { rung = 1, calm_since = 4000 } } },
      { at = 4800, expect = { state = { rung = 1 } } },  -- (the GC target goes back up: room)
      { at = 4900, expect = { log = "ladder reset", state_nil = { "rung", "acted", "fired" } } },
    },
  },
  {
    name = "a rung whose knob is named \"\" is skipped",
    series = memory(0, 3600, imminent, { gauge("cache_memory_bytes", 3000, 3600, function() return 300 * MiB end) }),
    params = { min_history = 0, gc_cpu_metric = "", collect_knob = "", gc_knob = "" },
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { cache_trim = 0.3 }, log = "skip collect: no knob" },
  },
  {
    name = "the limit from the params",
    series = { gauge("process_resident_memory_bytes", 0, 3600, function(t) return imminent(t) * GiB end) },
    params = { min_history = 0, gc_cpu_metric = "", limit = GiB },
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { gc_collect = 1 } },
  },
  {
    name = "two processes behind one name: no prediction, nothing done",
    series = {
      { metric = "process_resident_memory_bytes", labels = { pod = "a" }, points = { { 0, 1 }, { 10, 2 } } },
      { metric = "process_resident_memory_bytes", labels = { pod = "b" }, points = { { 0, 1 }, { 10, 2 } } },
      { metric = "process_memory_limit_bytes", points = { { 0, GiB }, { 10, GiB } } },
    },
    knobs = all_knobs(100, 100000),
    now = 10,
    expect = { no_proposal = true, log = "no prediction: ambiguous" },
  },
  {
    name = "memory_match picks the process to watch",
    series = {
      gauge("process_memory_limit_bytes", 0, 3600, function() return GiB end),
      { metric = "process_resident_memory_bytes", labels = { pod = "a" },
        points = gauge("x", 0, 3600, function() return 0.3 * GiB end).points },
      { metric = "process_resident_memory_bytes", labels = { pod = "b" },
        points = gauge("x", 0, 3600, function(t) return imminent(t) * GiB end).points },
    },
    params = { min_history = 0, gc_cpu_metric = "", memory_match = { pod = "b" } },
    knobs = all_knobs(5, 100),
    now = 3600,
    expect = { proposals = { gc_collect = 1 } },
  },
  {
    name = "no memory data: nothing",
    knobs = all_knobs(100, 100000),
    expect = { no_proposal = true },
  },
  {
    name = "a GC metric missing: no vetoed collection, the next rung instead; the pause checked again once back",
    series = memory(0, 3700, imminent, { gauge("cache_memory_bytes", 3000, 3700, function() return 300 * MiB end) }),
    params = { min_history = 0 },
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state = { has = { gc_cpu_metric = false } },
                   log = "no gc_cpu_seconds_total %(gc_cpu_metric%): what needs it is skipped until it is back" } },
      { at = 3615, expect = { proposals = { cache_trim = 0.3 }, knobs = { cache_trim = 0.3 }, state = { rung = 2 },
                              log = "skip collect: no gc_cpu_seconds_total" } },
      { at = 3640, series = { gauge("gc_cpu_seconds_total", 3620, 3640, function(t) return t end),
                              gauge("gc_collections_total", 3620, 3640, function(t) return t end) },
        expect = { no_proposal = true, log = "gc_cpu_seconds_total %(gc_cpu_metric%) is back" } },
      { at = 3675, expect = { no_proposal = true,
                              log = { "skip close_idle: no db_pool_connections_idle",
                                      "skip collect: a collection would pause 1%.00 s" } } },
    },
  },
  {
    name = "optional metrics named \"\": neither read nor checked, and no error",
    series = memory(0, 3990, imminent, {
      gauge("gc_cpu_seconds_total", 3300, 3990, function(t) return t end),  -- 1 s of GC CPU a second
    }),
    params = { min_history = 0, gc_collections_metric = "", cache_bytes_metric = "", entries_metric = "",
               idle_metric = "" },
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },  -- the pause is unknown
      { at = 3660, expect = { proposals = { cache_trim = 0.3 }, knobs = { cache_trim = 0.3 } } },  -- so is the gain
      { at = 3720, expect = { proposals = { db_pool_close_idle = 1 }, knobs = { db_pool_close_idle = 1 } } },
      { at = 3930, expect = { proposals = { cache_flush = 1 }, knobs = { cache_flush = 1 } } },
    },
  },
  {
    name = "idle sessions counted by idle_match (PostgreSQL's pg_stat_activity_count{state=\"idle\"})",
    series = memory(0, 3700, imminent, {
      { metric = "pg_stat_activity_count", labels = { state = "active" }, points = { { 3600, 5 }, { 3660, 5 } } },
      { metric = "pg_stat_activity_count", labels = { state = "idle" }, points = { { 3600, 0 }, { 3660, 2 } } },
    }),
    params = { min_history = 0, gc_cpu_metric = "", collect_knob = "", trim_knob = "",
               idle_metric = "pg_stat_activity_count",
               idle_match = { state = "idle" } },
    knobs = all_knobs(5, 100),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, log = { "skip close_idle: no idle connection", "nothing left that helps" } } },
      { at = 3660, expect = { proposals = { db_pool_close_idle = 1 }, knobs = { db_pool_close_idle = 1 } } },
    },
  },
  {
    name = "the GC CPU missing: no vetoed GC target; it stays (its budget unchecked), the cache steps down",
    series = memory(0, 3700, fast),
    knobs = settings(100, 100000),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state_nil = "set_at", log = "no gc_cpu_seconds_total" } },
      { at = 3615, expect = { proposals = { cache_capacity_entries = 70000 },
                              knobs = { cache_capacity_entries = 70000 } } },
    },
  },
  {
    name = "room again, the cache's size missing: nothing loosened (and nothing vetoed) until it is back",
    series = memory(0, 3700, function() return 0.1 end),
    knobs = settings(5, 1000),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, log = "no cache_memory_bytes" } },
      { at = 3615, expect = { no_proposal = true } },
      { at = 3630, values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
        expect = { no_proposal = true, log = { "cache_memory_bytes %(cache_bytes_metric%) is back", "cache_entries %(entries_metric%) is back" } } },
      { at = 3645, values = { cache_memory_bytes = 4 * MiB, cache_entries = 1000 },
        expect = { proposals = { cache_capacity_entries = { value = 100000, reason = "headroom" } } } },
    },
  },
  {
    name = "an unlimited cache whose entries are found missing: nothing that tick",
    series = memory(0, 3700, fast),
    params = NO_GC_COST,
    knobs = settings(5, 0, 0),
    now = 3600,
    steps = {
      { expect = { no_proposal = true, log = "no cache_entries" } },
      { at = 3615, expect = { no_proposal = true } },  -- the size unknown: left alone
    },
  },
  {
    name = "the GC CPU gone at the restart's tick: no vetoed restart, it comes a tick later",
    series = memory(0, 3700, creeping, { gauge("gc_cpu_seconds_total", 0, 3000, function(t) return 0.01 * t end) }),
    params = { load_metric = "" },
    knobs = at_baselines(),
    now = 0,
    steps = {
      { expect = {} },
      { at = 600, expect = { log = "gc_cpu_seconds_total %(gc_cpu_metric%) is back" } },
      { at = 3600, expect = { no_proposal = true, log = "no gc_cpu_seconds_total", state_nil = "restarted_at" } },
      { at = 3615, expect = { proposals = { process_restart = 1 }, knobs = { process_restart = 1 } } },
    },
  },
  {
    name = "the GC CPU missing: the GC target counts as held, the planned restart follows",
    series = memory(0, 3700, creeping),
    params = { load_metric = "" },
    knobs = at_baselines(),
    now = 0,
    steps = {
      { expect = { log = "no gc_cpu_seconds_total" } },
      { at = 3600, expect = { proposals = { process_restart = 1 }, knobs = { process_restart = 1 } } },
    },
  },
}
