-- SPDX-License-Identifier: Apache-2.0
-- Tests of memory_pressure.lua: PSI or RSS, levels and hysteresis, one action
-- at a time from the cheapest, the gates that skip useless actions.
local GiB = 2 ^ 30
local MiB = 2 ^ 20

local function triggers()
  return {
    gc_collect = 0, db_pool_close_idle = 0, cache_flush = 0,
    cache_trim = { value = 0, min = 0, max = 1, integer = false },
  }
end

-- Resident memory at `share` of a 1 GiB limit, PSI left out.
local function rss(share, extra)
  local v = { process_resident_memory_bytes = share * GiB, process_memory_limit_bytes = GiB }
  for k, x in pairs(extra or {}) do v[k] = x end
  return v
end

local NO_PSI = { psi_metric = "" }
-- Neither PSI nor the GC metrics (a collection without the pause check).
local RSS_ONLY = { psi_metric = "", gc_cpu_metric = "" }

-- GC counters giving `pause` seconds of GC CPU per collection, over [t - 60, t].
local function gc_cost(t, pause)
  return {
    { metric = "gc_cpu_seconds_total", points = { { t - 60, 0 }, { t, 10 * pause } } },
    { metric = "gc_collections_total", points = { { t - 60, 0 }, { t, 10 } } },
  }
end

return {
  {
    name = "PSI where the kernel has it: 12 % stalled is moderate pressure, a collection",
    params = { gc_cpu_metric = "" },
    values = { node_pressure_memory_some_avg10 = 12 },
    knobs = triggers(),
    expect = { proposals = { gc_collect = { value = 1, reason = "moderate pressure, PSI some 12.0%%" } },
               knobs = { gc_collect = 1 }, state = { psi = true, level = 1 },
               log = { "none %-> moderate", "pressure from node_pressure_memory_some_avg10" } },
  },
  {
    name = "PSI below its moderate threshold: nothing",
    values = { node_pressure_memory_some_avg10 = 5 },
    knobs = triggers(),
    expect = { no_proposal = true, state = { psi = true }, state_nil = "level" },
  },
  {
    name = "no PSI: probed once, then resident memory against the limit",
    params = { gc_cpu_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.85), expect = { no_proposal = true, state = { psi = false },
                                       log = "no node_pressure_memory_some_avg10" } },
      { values = rss(0.85), expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 },
                                       state = { level = 1 } } },
    },
  },
  {
    name = "high pressure: one action at a time, cheapest first, each after `settle`",
    params = RSS_ONLY,
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.92, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { proposals = { gc_collect = 1 }, state = { level = 2 } } },
      { advance = 30, values = rss(0.92, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { no_proposal = true } },  -- judging the collection
      { advance = 30, values = rss(0.92, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { proposals = { db_pool_close_idle = 1 } } },
      { advance = 60, values = rss(0.92, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { proposals = { cache_trim = 0.3 } } },
      { advance = 60, values = rss(0.92, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { no_proposal = true } },  -- all of high's actions fired; no flush below critical
      { advance = 60, values = rss(0.98, { db_pool_connections_idle = 3, cache_memory_bytes = 300 * MiB }),
        expect = { proposals = { cache_flush = 1 }, state = { level = 3 } } },
    },
  },
  {
    name = "an action is repeated only after repeat_action",
    params = { psi_metric = "", gc_cpu_metric = "", repeat_action = 120 },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.85), expect = { proposals = { gc_collect = 1 } } },
      { advance = 60, values = rss(0.85), expect = { no_proposal = true } },
      { advance = 60, values = rss(0.85), expect = { proposals = { gc_collect = 2 } } },
    },
  },
  {
    name = "hysteresis over two levels: from critical, down to the highest level not yet left",
    params = { psi_metric = "", gc_cpu_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.98), expect = { state = { level = 3 } } },
      -- 0.85: below critical's mark (0.873), above high's (0.81): high
      { advance = 90, values = rss(0.85), expect = { state = { level = 2 }, log = "critical %-> high" } },
    },
  },
  {
    name = "hysteresis: a level is left only below `leave` times its threshold",
    params = { psi_metric = "", gc_cpu_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.92), expect = { proposals = { gc_collect = 1 }, state = { level = 2 } } },
      { advance = 90, values = rss(0.85), expect = { state = { level = 2 } } },  -- 0.85 >= 0.81
      { advance = 90, values = rss(0.80), expect = { state = { level = 1 }, log = "high %-> moderate" } },
      { advance = 90, values = rss(0.60), expect = { no_proposal = true, state_nil = { "level", "fired" } } },
      { advance = 90, values = rss(0.85), expect = { proposals = { gc_collect = 2 } } },  -- starts over
    },
  },
  {
    name = "the peak of the last minute counts, not the last sample",
    params = RSS_ONLY,
    series = {
      { metric = "process_resident_memory_bytes", points = { { 0, 0.86 * GiB }, { 30, 0.5 * GiB } } },
      { metric = "process_memory_limit_bytes", points = { { 0, GiB }, { 30, GiB } } },
    },
    knobs = triggers(),
    now = 30,
    expect = { proposals = { gc_collect = 1 }, log = "memory peaks at 0.86" },
  },
  {
    name = "a collection that would pause too long is skipped",
    params = NO_PSI,
    series = gc_cost(100, 0.8),
    values = rss(0.85),
    knobs = triggers(),
    now = 100,
    expect = { no_proposal = true },
  },
  {
    name = "a cheap collection is not skipped",
    params = NO_PSI,
    series = gc_cost(100, 0.01),
    values = rss(0.85),
    knobs = triggers(),
    now = 100,
    expect = { proposals = { gc_collect = 1 } },
  },
  {
    name = "a trim or flush that frees too little, and no idle connection: nothing at critical",
    params = NO_PSI,
    series = gc_cost(100, 0.8),
    values = rss(0.99, { db_pool_connections_idle = 0, cache_memory_bytes = 10 * MiB }),
    knobs = triggers(),
    now = 100,
    expect = { no_proposal = true, state = { level = 3 } },
  },
  {
    name = "the flush alone is big enough",
    params = NO_PSI,
    series = gc_cost(100, 0.8),
    values = rss(0.99, { db_pool_connections_idle = 0, cache_memory_bytes = 40 * MiB }),
    knobs = triggers(),
    now = 100,
    expect = { proposals = { cache_flush = 1 } },  -- a trim would free 12 MiB < 16
  },
  {
    name = "a trim of the current fraction is nudged so that it fires",
    params = { psi_metric = "", trim_fraction = 0.5 },
    series = gc_cost(100, 0.8),
    values = rss(0.92, { cache_memory_bytes = 100 * MiB }),
    knobs = { cache_trim = { value = 0.5, min = 0, max = 1, integer = false } },
    now = 100,
    expect = { proposals = { cache_trim = 0.4995 } },
  },
  {
    name = "an integer 0/1 cache_trim is skipped (it could only evict everything)",
    params = NO_PSI,
    series = gc_cost(100, 0.8),
    values = rss(0.92, { cache_memory_bytes = 100 * MiB }),
    knobs = { cache_trim = { value = 0, min = 0, max = 1 } },
    now = 100,
    expect = { no_proposal = true },
  },
  {
    name = "a set-up without these knobs: nothing, and no error",
    params = NO_PSI,
    values = rss(0.99),
    knobs = { gc_percent = 100 },
    expect = { no_proposal = true, state = { level = 3 } },
  },
  {
    name = "an action whose knob is named \"\" is skipped",
    params = { psi_metric = "", collect_knob = "", close_idle_knob = "" },
    values = rss(0.92, { cache_memory_bytes = 100 * MiB }),
    knobs = triggers(),
    expect = { proposals = { cache_trim = 0.3 } },
  },
  {
    name = "the limit from the params",
    params = { psi_metric = "", gc_cpu_metric = "", limit = 2 * GiB },
    values = { process_resident_memory_bytes = 1.7 * GiB },
    knobs = triggers(),
    expect = { proposals = { gc_collect = 1 } },  -- 0.85 of 2 GiB
  },
  {
    name = "no memory data: nothing",
    params = NO_PSI,
    knobs = triggers(),
    expect = { no_proposal = true, state_nil = "level" },
  },
  {
    name = "PSI that stops reporting: nothing at first, the resident memory after psi_probe_every",
    params = { gc_cpu_metric = "", psi_probe_every = 120 },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.85, { node_pressure_memory_some_avg10 = 1 }),
        expect = { no_proposal = true, state = { psi = true } } },
      -- PSI turns stale after 3 scrapes without it
      { at = 100, values = rss(0.85), expect = { no_proposal = true, state = { psi = true } } },
      { at = 200, values = rss(0.85), expect = { no_proposal = true, state = { psi = true } } },
      { at = 300, values = rss(0.85), expect = { no_proposal = true, state = { psi = true } } },
      { at = 400, values = rss(0.85), expect = { no_proposal = true, state = { psi = true } } },
      { at = 500, values = rss(0.85), expect = { no_proposal = true, state = { psi = false },
        log = "pressure from process_resident_memory_bytes against the limit %(no node_pressure_memory_some_avg10 for" } },
      { at = 515, values = rss(0.85), expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },
    },
  },
  {
    name = "before the first scrape: PSI not decided yet; used once it appears with the resident memory",
    params = { gc_cpu_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { expect = { no_proposal = true, state_nil = "psi" } },
      { values = rss(0.5, { node_pressure_memory_some_avg10 = 30 }),
        expect = { proposals = { gc_collect = { value = 1, reason = "high pressure, PSI some 30" } },
                   knobs = { gc_collect = 1 },
                   state = { psi = true, level = 2 }, log = "pressure from node_pressure_memory_some_avg10" } },
    },
  },
  {
    name = "no PSI: the resident memory, and PSI looked for every psi_probe_every (after the proposals)",
    params = { gc_cpu_metric = "", psi_probe_every = 600 },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.5), expect = { no_proposal = true, state = { psi = false, psi_probed = 0 },
        log = "pressure from process_resident_memory_bytes against the limit %(no node_pressure_memory_some_avg10 here%)" } },
      { at = 300, values = rss(0.5, { node_pressure_memory_some_avg10 = 30 }),
        expect = { no_proposal = true, state = { psi = false } } },  -- not looked for yet
      { at = 600, values = rss(0.85, { node_pressure_memory_some_avg10 = 30 }),
        expect = { proposals = { gc_collect = { value = 1, reason = "memory peaks at 0%.85" } },
                   knobs = { gc_collect = 1 },
                   state = { psi = true, psi_probed = 600 },
                   log = "pressure from node_pressure_memory_some_avg10 %(found%)" } },
      { at = 615, values = rss(0.5, { node_pressure_memory_some_avg10 = 30 }),
        expect = { no_proposal = true, state = { level = 2 }, log = "moderate %-> high: PSI some 30" } },  -- judging
      { at = 660, values = rss(0.5, { node_pressure_memory_some_avg10 = 30 }),
        expect = { no_proposal = true, state = { level = 2 } } },  -- no idle count or cache size: nothing
    },
  },
  {
    name = "psi_metric \"\": the resident memory from the start, said once",
    params = { psi_metric = "", gc_cpu_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.85), expect = { proposals = { gc_collect = 1 }, state = { psi = false },
                                       log = "pressure from process_resident_memory_bytes against the limit %(psi_metric is \"\"%)" } },
    },
  },
  {
    name = "a GC metric missing: no collection (and no vetoed proposal) until the pause can be checked again",
    params = { psi_metric = "" },
    knobs = triggers(),
    now = 100,
    steps = {
      { values = rss(0.85), expect = { no_proposal = true, state = { has = { gc_cpu_metric = false } },
                                       log = "no gc_cpu_seconds_total %(gc_cpu_metric%): what needs it is skipped until it is back" } },
      { at = 115, values = rss(0.85), expect = { no_proposal = true } },
      { at = 200, values = rss(0.85), series = gc_cost(200, 0.01),
        expect = { no_proposal = true, state = { has = { gc_cpu_metric = true } },
                   log = "gc_cpu_seconds_total %(gc_cpu_metric%) is back" } },
      { at = 215, values = rss(0.85), expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },
    },
  },
  {
    name = "optional metrics named \"\": neither read nor checked, and no error",
    params = { psi_metric = "", gc_cpu_metric = "", gc_collections_metric = "", cache_bytes_metric = "",
               idle_metric = "" },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.98), expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } } },
      { at = 60, values = rss(0.98),
        expect = { proposals = { db_pool_close_idle = 1 }, knobs = { db_pool_close_idle = 1 } } },
      { at = 120, values = rss(0.98), expect = { proposals = { cache_trim = 0.3 }, knobs = { cache_trim = 0.3 } } },
      { at = 180, values = rss(0.98), expect = { proposals = { cache_flush = 1 }, knobs = { cache_flush = 1 } } },
    },
  },
  {
    name = "a collection with an unknown pause count (gc_collections_metric \"\") is not skipped",
    params = { psi_metric = "", gc_collections_metric = "" },
    series = gc_cost(100, 0.8),
    values = rss(0.85),
    knobs = triggers(),
    now = 100,
    expect = { proposals = { gc_collect = 1 }, knobs = { gc_collect = 1 } },
  },
  {
    name = "idle sessions counted by idle_match (PostgreSQL's pg_stat_activity_count{state=\"idle\"})",
    params = { psi_metric = "", gc_cpu_metric = "", collect_knob = "", trim_knob = "",
               idle_metric = "pg_stat_activity_count", idle_match = { state = "idle" } },
    knobs = triggers(),
    now = 0,
    steps = {
      { values = rss(0.92), series = {
          { metric = "pg_stat_activity_count", labels = { state = "idle" }, points = { { 0, 0 } } },
          { metric = "pg_stat_activity_count", labels = { state = "active" }, points = { { 0, 5 } } } },
        expect = { no_proposal = true } },  -- 5 sessions, none idle
      { at = 60, values = rss(0.92), series = {
          { metric = "pg_stat_activity_count", labels = { state = "idle" }, points = { { 60, 2 } } },
          { metric = "pg_stat_activity_count", labels = { state = "active" }, points = { { 60, 5 } } } },
        expect = { proposals = { db_pool_close_idle = { value = 1, reason = "high pressure" } } } },
    },
  },
}
