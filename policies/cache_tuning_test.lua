-- SPDX-License-Identifier: Apache-2.0
-- Tests of cache_tuning.lua.
--
-- With the short periods below (settle 60 s, measure 120 s, a tick a minute)
-- a decision falls every 180 s: t=0 start, t=60 a base measured from, t=180
-- decided (a TTL probe or a capacity step proposed), t=240 measured from,
-- t=360 decided (the return proposed), t=420 measured from, t=540 judged.
-- Hit ratio 0.8 at 100 lookups/s, 2.5 % stale: J = 0.78 - 0.02 * 0.38 GiB.

local GiB = 2 ^ 30
local short = { settle = 60, settle_capacity = 60, measure = 120, recover = 120, hit_margin = 0 }

local function with(extra)
  local p = {}
  for k, v in pairs(short) do p[k] = v end
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

-- Counters growing at per-second rates (hits, misses, stale), sampled every
-- minute up to `last`; `windows` override the rates for the minutes ending
-- in (from, to]; `reset_at` starts the counters again from 0 (a restart).
-- Gauges: `held` entries (200,000 by default) of 2 KiB.
local function traffic(rates, windows, last, reset_at, held)
  held = held or 200000
  local total = { 0, 0, 0 }
  local h, m, s, bytes, entries = {}, {}, {}, {}, {}
  for t = 0, last or 600, 60 do
    if t > 0 then
      local r = rates
      for _, w in ipairs(windows or {}) do
        if t > w.from and t <= w.to then r = w.rates end
      end
      for i = 1, 3 do total[i] = total[i] + r[i] * 60 end
    end
    if reset_at and t == reset_at then total = { 0, 0, 0 } end
    h[#h + 1] = { t, total[1] }
    m[#m + 1] = { t, total[2] }
    s[#s + 1] = { t, total[3] }
    bytes[#bytes + 1] = { t, held * 2048 }
    entries[#entries + 1] = { t, held }
  end
  return {
    { metric = "cache_hits_total", points = h },
    { metric = "cache_misses_total", points = m },
    { metric = "cache_stale_reads_total", points = s },
    { metric = "cache_memory_bytes", type = "gauge", points = bytes },
    { metric = "cache_entries", type = "gauge", points = entries },
  }
end

-- A TTL knob (value, baseline) and, with `cap`, a capacity knob.
local function knobs(ttl, ttl0, cap, cap0, capMin)
  local k = { cache_ttl_seconds = { value = ttl, baseline = ttl0 or ttl, min = 30, max = 7200, integer = false } }
  if cap then
    k.cache_capacity_entries = { value = cap, baseline = cap0 or cap, min = capMin or 1000, max = 400000, integer = true }
  end
  return k
end

local quiet = { no_proposal = true }
-- Quiet until the first decision at t=180 (a base measured from t=60), then `later`.
local function decided(at180, later)
  local steps = { { expect = quiet }, { at = 60, expect = quiet }, { at = 120, expect = quiet }, { at = 180, expect = at180 } }
  for _, step in ipairs(later or {}) do steps[#steps + 1] = step end
  return steps
end
-- Ticks from t=60 to t=540; those not given must not propose.
local function run(at180, at360, at540, extra)
  local steps = { { expect = quiet } }
  for t = 60, 540, 60 do
    local e = quiet
    if t == 180 then e = at180 elseif t == 360 then e = at360 or quiet elseif t == 540 then e = at540 or quiet end
    steps[#steps + 1] = { at = t, expect = e }
  end
  for _, s in ipairs(extra or {}) do steps[#steps + 1] = s end
  return steps
end

-- Following the load: exponents 0.5, a typical 100 lookups/s, the load
-- smoothed over 240 s (as the climbing's own view of it), then `extra`.
local function following(extra)
  local p = { follow_load = 0.5, follow_load_ttl = 0.5, typical_lookups = 100, follow_smooth = 240 }
  for k, v in pairs(extra or {}) do p[k] = v end
  return with(p)
end
-- A tick a minute from t=0 to `last`: `marked[t]` expected at t, quiet elsewhere.
local function minutes(last, marked)
  local steps = {}
  for t = 0, last, 60 do steps[#steps + 1] = { at = t, expect = marked[t] or quiet } end
  return steps
end
-- Every input once (values at the tick's time).
local oneLookup = { cache_hits_total = 10, cache_misses_total = 1, cache_stale_reads_total = 0,
                    cache_memory_bytes = 2048, cache_entries = 1 }
-- The TTL at a factor of about 0.5 (the means creep up from the typical load).
local halfTtl = { min = 1800, max = 1806 }

local normal = { 80, 20, 2 }  -- J = 0.78 - 0.0076 = 0.7724
local better = { 86, 14, 1 }  -- J = 0.8424
local worse = { 75, 25, 2 }   -- J = 0.7224
local probeWindow = { from = 240, to = 360 }
-- TTL 3600 over a baseline of 3000: room above the floor for a full step down.
local roomy = knobs(3600, 3000)

return {
  -- Capacity.
  {
    name = "a full cache grows by a step within the memory budget, and waits for it to fill",
    params = with({ settle_capacity = 120 }),
    knobs = knobs(3600, 3600, 200000),
    now = 0,
    series = traffic(normal),
    steps = run({ proposals = { cache_capacity_entries = { value = 244281, reason = "the cache is full: hit ratio 0%.800" } },
                  state = { stage = "grown", until_t = 300, probe = { knob = "cap", from = 200000, to = 244281 } } },
                quiet),
  },
  {
    name = "a step up that costs goes back, and the capacity holds until the load moves",
    params = short,
    knobs = knobs(3600, 3600, 200000),
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = worse } }),
    steps = run({ proposals = { cache_capacity_entries = 244281 } },
                { proposals = { cache_capacity_entries = { value = 200000, reason = "244281 entries lost %-0%.0500" } },
                  state = { cap_hold = true, stage = "base" } },
                -- Full again but held; the TTL has no room above the floor: measure again.
                { no_proposal = true, state = { hold = true, stage = "base" } }),
  },
  {
    name = "a step up that pays is kept",
    params = short,
    knobs = knobs(3600, 3600, 200000),
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = better } }),
    steps = run({ proposals = { cache_capacity_entries = 244281 } },
                { no_proposal = true, log = "cap 200000 %-> 244281: objective %+0%.0700",
                  knobs = { cache_capacity_entries = 244281 } }),
  },
  {
    name = "what the entries beyond the baseline capacity bring is measured at the baseline capacity",
    params = short,
    knobs = knobs(3600, 3600, 244281, 200000),
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = { 78, 22, 2 } } }, 600, nil, 230000),
    steps = run({ proposals = { cache_capacity_entries = { value = 200000, reason = "the baseline capacity's hit ratio now" } },
                  state = { stage = "check" } },
                { proposals = { cache_capacity_entries = { value = 244281, reason = "30000 entries beyond the baseline capacity bring %+0%.0200" } },
                  state = { stage = "base", check_t = 360 + 14400 } },
                -- They bring 0.02 of hit ratio: room for a shorter TTL.
                { proposals = { cache_ttl_seconds = { max = 3599, reason = "probe: " } } }),
  },
  {
    name = "capacity over the memory budget is cut at once",
    params = { memory_budget = "200MiB" },
    values = { cache_hits_total = 10, cache_misses_total = 1, cache_stale_reads_total = 0,
               cache_memory_bytes = 200000 * 2048, cache_entries = 200000 },
    knobs = knobs(3600, 3600, 300000),
    expect = { proposals = { cache_capacity_entries = { value = 102400, reason = "memory budget 200 MiB at 2048 bytes per entry" } } },
  },
  {
    name = "within 2 % of the memory budget: no cut",
    params = { memory_budget = "200MiB" },
    values = { cache_hits_total = 10, cache_misses_total = 1, cache_stale_reads_total = 0,
               cache_memory_bytes = 200000 * 2048, cache_entries = 200000 },
    knobs = knobs(3600, 3600, 104000),
    expect = { no_proposal = true },
  },
  {
    name = "a nearly empty cache does not measure the size of an entry",
    params = { memory_budget = "200MiB" },
    values = { cache_hits_total = 10, cache_misses_total = 1, cache_stale_reads_total = 0,
               cache_memory_bytes = 2 ^ 30, cache_entries = 10 },
    knobs = knobs(3600, 3600, 300000),
    expect = { no_proposal = true },
  },
  {
    name = "an unlimited cache over the memory budget gets a capacity",
    params = { memory_budget = "200MiB" },
    values = { cache_hits_total = 10, cache_misses_total = 1, cache_stale_reads_total = 0,
               cache_memory_bytes = 200000 * 2048, cache_entries = 200000 },
    knobs = knobs(3600, 3600, 0, 0, 0),
    expect = { proposals = { cache_capacity_entries = 102400 } },
  },

  -- TTL.
  {
    name = "a TTL probe that pays is taken and its direction kept",
    params = short,
    knobs = roomy,
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = better } }),
    steps = run({ proposals = { cache_ttl_seconds = { min = 2947.43, max = 2947.44, reason = "probe: hit ratio 0%.800, stale 2%.50%% of hits" } },
                  state = { stage = "probe", probe = { knob = "ttl", from = 3600 } } },
                { proposals = { cache_ttl_seconds = { value = 3600, reason = "probe measured: hit ratio 0%.860" } } },
                { proposals = { cache_ttl_seconds = { min = 2947.43, max = 2947.44, reason = "probe gained %+0%.0700, hit ratio %+0%.0600" } },
                  state = { stage = "base", dir = -1, step = 0.2 } }),
  },
  {
    name = "a TTL probe that costs is undone: reverse, half the step, the smallest step up",
    params = short,
    knobs = roomy,
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = worse } }),
    steps = run({ proposals = { cache_ttl_seconds = true } },
                { proposals = { cache_ttl_seconds = 3600 } },
                { proposals = { cache_ttl_seconds = { min = 3691.13, max = 3691.14 } },
                  log = "ttl 3600 %-> 2947%.43: objective %-0%.0500, hit ratio %-0%.0500, staying at 3600",
                  state = { stage = "probe", dir = 1, step = 0.1 } }),
  },
  {
    name = "no clear difference: same direction, half the step",
    params = short,
    knobs = roomy,
    now = 0,
    series = traffic(normal),
    steps = run({ proposals = { cache_ttl_seconds = true } },
                { proposals = { cache_ttl_seconds = 3600 } },
                { proposals = { cache_ttl_seconds = { min = 3257.41, max = 3257.42 } }, state = { dir = -1, step = 0.1 } }),
  },
  {
    name = "a TTL probe that would take the hit ratio under the floor is not taken",
    params = with({ hit_margin = 0.02 }),
    knobs = knobs(3600, 3000),
    now = 0,
    -- Fewer hits, no stale reads: J gains, the hit ratio falls.
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = { 79, 21, 0 } } }),
    steps = run({ proposals = { cache_ttl_seconds = { min = 3210.06, max = 3210.07 } } },
                { proposals = { cache_ttl_seconds = 3600 } },
                -- Not taken; the next probe down is smaller.
                { log = "objective %+0%.0100, hit ratio %-0%.0100 %(under the floor%), staying at 3600",
                  proposals = { cache_ttl_seconds = { min = 3211, max = 3599 } } }),
  },
  {
    name = "under the floor the TTL goes up, taken for the hits whatever J says",
    params = short,
    knobs = knobs(3000, 3600),
    now = 0,
    series = traffic(normal, { { from = probeWindow.from, to = probeWindow.to, rates = { 84, 16, 10 } } }),
    steps = run({ proposals = { cache_ttl_seconds = { min = 3664.20, max = 3664.21 } }, state = { dir = 1 } },
                { proposals = { cache_ttl_seconds = 3000 } },
                { proposals = { cache_ttl_seconds = { min = 3664.20, max = 3664.21, reason = "under the baselines' hit ratio" } } }),
  },
  {
    name = "at the TTL of the baselines, nothing to spend: no probe, the base is measured again",
    params = short,
    knobs = knobs(3600),
    now = 0,
    series = traffic(normal, nil, 360),
    steps = decided({ no_proposal = true, state = { hold = true, stage = "base", phase = "settle" } }, {
      { at = 240, expect = quiet },
      { at = 300, expect = quiet },
      { at = 360, expect = { no_proposal = true, state = { hold = true } } },
    }),
  },
  {
    name = "without a floor (the default) J alone decides: a TTL at its baseline is probed down, no capacity check",
    params = { settle = 60, measure = 120 },
    knobs = knobs(3600, 3600, 244281, 200000),
    now = 0,
    series = traffic(normal, nil, 180, nil, 230000),
    steps = decided({ proposals = { cache_ttl_seconds = { min = 2947.43, max = 2947.44 } } }),
  },
  {
    name = "without a floor even a TTL far below its baseline is probed down: J alone decides",
    params = { settle = 60, measure = 120 },
    -- 5 s against 7200 s: the TTL's gap, 0.16 x ln(5 / 7200) = -1.16, is
    -- below any hit_margin: only a floor could turn the probe up.
    knobs = { cache_ttl_seconds = { value = 5, baseline = 7200, min = 1, max = 7200, integer = false } },
    now = 0,
    series = traffic(normal, nil, 180),
    steps = decided({ proposals = { cache_ttl_seconds = { min = 1, max = 4.99 } } }),
  },
  {
    -- 2.5 % of hits stale against a budget of 1 %: TTL x 1 / 2.5 at once,
    -- whatever it costs in hits, then a base at the new TTL.
    name = "over the stale budget the TTL goes at once to the budget's share",
    params = with({ stale_budget = 0.01 }),
    knobs = knobs(3600),
    now = 0,
    series = traffic(normal, nil, 300),
    steps = decided({ proposals = { cache_ttl_seconds = { min = 1439.99, max = 1440.01,
                                                          reason = "over the stale budget of 1%.00%%: hit ratio" } },
                      state = { stage = "base", dir = -1 } }, {
      { at = 240, expect = quiet },
      { at = 300, expect = quiet },
    }),
  },
  {
    -- Just over: the step (0.2) at least, not a sliver.
    name = "just over the stale budget the TTL moves by a full step",
    params = with({ stale_budget = 0.024 }),
    knobs = knobs(3600),
    now = 0,
    series = traffic(normal, nil, 180),
    steps = decided({ proposals = { cache_ttl_seconds = { min = 2947.43, max = 2947.44 } } }),
  },
  {
    name = "at the TTL's lower bound the probe looks the other way with the smallest step",
    params = with({ stale_budget = 0.01 }),
    knobs = { cache_ttl_seconds = { value = 30, min = 30, max = 7200, integer = false } },
    now = 0,
    series = traffic(normal, nil, 180),
    steps = decided({ proposals = { cache_ttl_seconds = { min = 30.759, max = 30.760 } }, state = { dir = 1 } }),
  },
  {
    name = "a TTL that cannot move at all: no proposal",
    params = with({ stale_budget = 0.01 }),
    knobs = { cache_ttl_seconds = { value = 600, min = 600, max = 600, integer = false } },
    now = 0,
    series = traffic(normal, nil, 180),
    steps = decided({ no_proposal = true, state = { stage = "base" } }),
  },
  {
    name = "base and return at different loads calibrate the load's effect",
    params = short,
    knobs = roomy,
    now = 0,
    -- The return runs at 150 lookups/s, same hit ratio and stale share.
    series = traffic(normal, { { from = 420, to = 540, rates = { 120, 30, 3 } } }),
    steps = run({ proposals = { cache_ttl_seconds = true } },
                { proposals = { cache_ttl_seconds = 3600 } },
                { proposals = { cache_ttl_seconds = true }, state = { step = 0.1 } }),
  },

  -- What voids a period.
  {
    name = "a moved hot set voids the probe: the TTL goes back after the recovery",
    params = short,
    knobs = roomy,
    now = 0,
    series = traffic(normal, { { from = 240, to = 300, rates = { 40, 60, 1 } } }, 600),
    steps = decided({ proposals = { cache_ttl_seconds = true } }, {
      { at = 240, expect = quiet },
      { at = 300, expect = { no_proposal = true, log = "hit ratio 0%.80 %-> 0%.40: the load moved",
                             state = { stage = "back", step = 0.2 } } },
      { at = 360, expect = quiet },
      { at = 420, expect = { proposals = { cache_ttl_seconds = { value = 3600, reason = "back from an unfinished probe" } },
                             state = { stage = "base" } } },
    }),
  },
  {
    name = "a hot-set move after the step has decayed: it grows back to restart_step",
    params = with({ step = 0.05 }),
    knobs = roomy,
    now = 0,
    series = traffic(normal, { { from = 60, to = 120, rates = { 40, 60, 1 } } }, 300),
    steps = {
      { expect = quiet },
      { at = 60, expect = quiet },
      { at = 120, expect = { no_proposal = true, state = { stage = "base", phase = "settle", until_t = 240, step = 0.1 } } },
    },
  },
  {
    name = "the tick after a change of ours is not read as a moved hot set",
    params = short,
    knobs = roomy,
    now = 0,
    series = traffic(normal, { { from = 180, to = 240, rates = { 40, 60, 1 } } }, 300),
    steps = decided({ proposals = { cache_ttl_seconds = true } }, {
      { at = 240, expect = { no_proposal = true, state = { stage = "probe", phase = "measure" } } },
    }),
  },
  {
    name = "counters going back (a restart) void the period; a decayed step grows back to restart_step",
    params = with({ step = 0.05 }),
    knobs = roomy,
    now = 0,
    series = traffic(normal, nil, 300, 120),
    steps = {
      { expect = quiet },
      { at = 60, expect = quiet },
      { at = 120, expect = { no_proposal = true, log = "counters went back",
                             state = { stage = "base", until_t = 240, step = 0.1 } } },
    },
  },

  -- Following the load (follow_load, follow_load_ttl). The climbing stays
  -- quiet unless said: the TTL has no room above the floor and the cache is
  -- not full. 400 lookups/s over a typical 100: factors 2 (capacity) and
  -- 0.5 (TTL).
  {
    name = "at four times the typical load the capacity doubles and the TTL halves, then waits follow_gap",
    params = following(),
    knobs = knobs(3600, 3600, 150000),
    now = 0,
    -- 400 lookups/s, then 1,600 from t=60: r^0.5 = 20 then 40 over a typical 10.
    series = traffic({ 320, 80, 8 }, { { from = 60, to = 900, rates = { 1280, 320, 32 } } }, 900, nil, 100000),
    -- The load moved again at once, but a knob moves once per follow_gap (660 s).
    steps = minutes(720, {
      [60] = { proposals = { cache_capacity_entries = { min = 299000, max = 300000, reason = "following the load" },
                             cache_ttl_seconds = halfTtl },
               state = { cap_base = 150000, ttl_base = 3600 } },
      [720] = { proposals = { cache_capacity_entries = { min = 400000 }, cache_ttl_seconds = { max = 1000 } } },
    }),
  },
  {
    name = "without a typical load, the first window only shrinks: no more memory nor staleness than the base",
    params = following({ typical_lookups = 0 }),
    knobs = knobs(3600, 3600, 150000),
    now = 0,
    -- 400 lookups/s, 1,600 from t=300 (above the mean seen: the capacity held
    -- at the base, the TTL shorter), then 100 from t=600 (below it: the
    -- capacity shrinks; the TTL, changed at 360, waits follow_gap and goes
    -- back to its base, never above it in the first window).
    series = traffic({ 320, 80, 8 }, { { from = 300, to = 600, rates = { 1280, 320, 32 } },
                                       { from = 600, to = 1800, rates = { 80, 20, 2 } } }, 1800, nil, 100000),
    steps = minutes(1020, {
      [360] = { proposals = { cache_ttl_seconds = { min = 2500, max = 3450 } } },
      [720] = { proposals = { cache_capacity_entries = { min = 120000, max = 135000 } } },
      [1020] = { proposals = { cache_ttl_seconds = 3600 } },
    }),
  },
  {
    name = "a decision of the climbing is on the base value: a budget cut, then the load's factor on it",
    params = following({ memory_budget = 100000 * 2048 }),
    knobs = knobs(3600, 3600, 150000),
    now = 0,
    -- The capacity's factor just under 2 (the mean creeps up). The budget
    -- holds the base, not the knob: twice the budget at the peak is no cut.
    series = traffic({ 320, 80, 8 }, nil, 900, nil, 90000),
    steps = minutes(900, {
      [0] = { proposals = { cache_capacity_entries = { value = 100000, reason = "memory budget" } },
              state = { cap_base = 100000 } },
      [60] = { proposals = { cache_ttl_seconds = halfTtl } },
      [660] = { proposals = { cache_capacity_entries = { min = 197000, max = 200000 } } },
    }),
  },
  {
    name = "a probe of the climbing moves the base, and the knob by the load's factor; a follow move restarts the period",
    params = following(),
    knobs = roomy,
    now = 0,
    series = traffic({ 320, 80, 8 }, nil, 900),
    -- t=60: the TTL follows the load; the period starts again at t=720
    -- (follow_gap), is measured to t=840, and the probe there (3600 -> 3000
    -- on the base: the room above the floor) is set at half of it.
    steps = minutes(840, {
      [60] = { proposals = { cache_ttl_seconds = halfTtl }, state = { phase = "settle", until_t = 720 } },
      [840] = { proposals = { cache_ttl_seconds = { min = 1495, max = 1505, reason = "probe" } },
                state = { probe = { knob = "ttl", from = 3600 } } },
    }),
  },
  {
    name = "the memory budget bounds the base: at the peak the cache may go above it",
    params = following({ memory_budget = 100000 * 2048 }),
    knobs = knobs(3600, 3600, 90000),
    now = 0,
    series = traffic({ 320, 80, 8 }, nil, 300, nil, 80000),
    steps = minutes(300, {
      [60] = { proposals = { cache_capacity_entries = { min = 179000, max = 180000 }, cache_ttl_seconds = halfTtl } },
    }),
  },
  {
    name = "an unlimited capacity (0) stays unlimited under any factor",
    params = following(),
    knobs = knobs(3600, 3600, 0, 0),
    now = 0,
    series = traffic({ 320, 80, 8 }, nil, 120, nil, 100000),
    steps = minutes(120, { [60] = { proposals = { cache_ttl_seconds = halfTtl }, state = { cap_base = 0 } } }),
  },
  {
    name = "an infinite typical load gives no factor: the knobs stay where they are",
    params = following({ typical_lookups = math.huge }),
    knobs = knobs(3600, 3600, 150000),
    now = 0,
    series = traffic({ 320, 80, 8 }, nil, 120, nil, 100000),
    steps = minutes(120, { [60] = { no_proposal = true, state = { fc = 1, ft = 1 } } }),
  },
  {
    name = "nonsense following params fail the tick, naming the param",
    params = following({ load_window = 0 }),
    knobs = knobs(3600, 3600, 150000),
    values = oneLookup,
    expect = { error = "params%.load_window: must be above 0, got 0" },
  },
  {
    name = "a negative dead band fails the tick too",
    params = following({ follow_deadband = -0.1 }),
    knobs = knobs(3600, 3600, 150000),
    values = oneLookup,
    expect = { error = "params%.follow_deadband: must be 0 or more, got %-0%.1" },
  },

  -- Missing inputs.
  {
    name = "no lookups: nothing to learn, no proposal",
    params = short,
    knobs = knobs(3600, 3600, 200000),
    now = 0,
    series = traffic({ 0, 0, 0 }, nil, 300),
    steps = decided({ no_proposal = true, state = { stage = "base", phase = "settle" } }),
  },
  {
    name = "missing metrics: no proposal",
    knobs = knobs(3600, 3600, 200000),
    values = { cache_hits_total = 10 },
    expect = { no_proposal = true, state_nil = "phase" },
  },
  {
    name = "no TTL knob: no proposal",
    knobs = { cache_capacity_entries = 200000 },
    values = oneLookup,
    expect = { no_proposal = true, state_nil = "phase" },
  },
}
