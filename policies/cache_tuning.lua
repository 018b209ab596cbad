-- SPDX-License-Identifier: Apache-2.0
-- cache_tuning: a cache's TTL and capacity found online, by hill-climbing on
-- what they buy (issue #7, trimtab's own cache policy).
--
-- Optimises, per lookup, over a measurement period:
--   J = hits/lookups - stale_weight * stale reads/lookups - byte_cost * cache GiB
-- A hit saves a database query; a stale read serves data changed since it was
-- cached (stale_weight 1: a stale hit is worth no more than a miss); a GiB of
-- cache must buy `byte_cost` of hit ratio to pay for itself. Limits: the
-- capacity never goes above memory_budget / bytes per entry (an over-budget
-- cache is cut at once; when following the load, this bounds the mean and
-- the peak goes above it, see below); while the stale share of hits is above
-- stale_budget the TTL goes at once to where the share would meet it (the
-- share grows about in proportion to the TTL; by `step` at least), whatever
-- that costs; and, with hit_margin > -1, a floor: the hit ratio stays, on
-- average over `hit_window`, at least `hit_margin` above what the
-- operator's settings (the knobs' baselines) would give. With hit_margin 0, trimtab
-- buys freshness with the hits a larger cache brings, not with hits the
-- configured cache would have served.
--
-- How. Capacity: while the cache is full (its LRU evicts entries that would
-- have served hits) it grows by e^step, within the memory budget; the step
-- is judged `settle_capacity` later (a larger cache fills only as misses
-- come) against the period before it, and goes back if J fell by more than
-- `min_gain` (no more steps up until the load moves). TTL: paired probes of
-- three periods, base (the current TTL), probe (TTL times e^(+-step)),
-- return (back to the base); the gain is J(probe) - mean(J(base),
-- J(return)), so a load that drifts during the probe cancels out. A gain
-- above `min_gain` that keeps the floor moves the TTL and keeps the
-- direction; a loss reverses the direction and halves the step; no clear
-- difference halves it (down to `min_step`). A longer TTL for J alone is
-- tried with `min_step` (it costs stale reads while it is tried). Each
-- period waits `settle` after a change and measures over `measure`.
--
-- The floor (when on), measured: the hit ratio above the baselines is
-- estimated as
--   kappa * (entries - baseline capacity, if more) + sigma * ln(TTL / baseline TTL)
-- with kappa what an entry beyond the baseline capacity brings (every
-- `check_every`, one period at the baseline capacity: evicting is
-- immediate, so it compares the two capacities at the same load) and sigma
-- the hit ratio per unit of log TTL (measured by the TTL probes, between a
-- tenth of H (1 - H) and H (1 - H) for a hit ratio H; the latter until
-- measured). The entries term follows the load: a larger cache gains when
-- the load fills it and nothing when the load fits the configured one. The
-- estimate's lookup-weighted mean over `hit_window` sets the floor of the
-- moment (hit_margin minus what the past was above hit_margin): a TTL step
-- down goes no further than the room above that floor (none: the base is
-- measured again), and under it the TTL probes go up, back to the floor and
-- not beyond. So the TTL is shortest when the load is high.
--
-- The load's own effect: the hit ratio follows the load (log lookups/s,
-- lagged by `follow`, the time the cache takes to follow it). Periods with
-- the same knobs (base and return, a base measured again) calibrate how much
-- J and the hit ratio move per unit of it, and every comparison takes that
-- part out. A moved hot set (the hit ratio of one tick falling by more than
-- `shift_drop` below the tick before, not after a change of ours) or a
-- restart (a counter going back) voids the period: a knob being tried goes
-- back after `recover`, a fresh base is measured, the TTL step grows back to
-- at least `restart_step` and the capacity may grow again. A knob changes at
-- most once per settle + measure (15 min by default): a reversal never falls
-- in a 10-minute flap window (nor with the moves below: one waits
-- `follow_gap` after any change and puts the next decision that long off).
--
-- Following the load (follow_load, follow_load_ttl; 0, off, by default). A
-- byte of cache buys more hits when more lookups come (the entries at the
-- LRU's tail are read more often), and a second of TTL costs fewer hits
-- when the load is high (a hot key's expiry miss is one miss among more
-- lookups) while its stale reads grow with the lookups. So, for the same
-- memory and stale reads on average, the capacity is its base value times
-- (lookups/s)^follow_load and the TTL its base times
-- (lookups/s)^-follow_load_ttl, each normalised by its mean over
-- `load_window` (the capacity's plain mean, the TTL's lookup-weighted mean:
-- stale reads go with lookups x TTL). For the TTL, 0.5 is where expiry
-- misses (keys / TTL) are fewest for given stale reads (lookups x TTL);
-- for the capacity, 0.5 measured best on cache_hotspot among 0.25 to 1.5.
-- The factors take the load smoothed over `follow_smooth` (the day, not
-- its noise). Everything above then works on the base values: the memory
-- budget becomes a budget on the mean (at the peak the cache is larger by
-- the factor), and the floor and the capacity check compare base values
-- with the baselines (at night the cache is smaller than the configured
-- one even with hit_margin 0; over a day the hits come out ahead). A knob
-- more than `follow_deadband` away from base x factor is moved, at most
-- once per `follow_gap`; the move starts the climbing's period again.
-- Until a whole `load_window` is seen the factors stay at 1 or below (a
-- start at night would take the night for typical), unless
-- `typical_lookups` (lookups/s, from a dashboard) starts the means. A
-- change of these params starts the means and base values afresh.
-- Measured on cache_hotspot (docs/policies.md): a higher hit ratio than
-- static at the same memory (within 0.1 %) and fewer stale reads, which no
-- static TTL and capacity reaches.
--
-- Reads (params, catalogue names by default): cache_hits_total,
-- cache_misses_total, cache_stale_reads_total (counters), cache_memory_bytes,
-- cache_entries (gauges). On Redis: redis_keyspace_hits_total,
-- redis_keyspace_misses_total, redis_memory_used_bytes, redis_db_keys; stale
-- reads must come from the application (reads that found an older version
-- than the source's). Knobs: cache_ttl_seconds and cache_capacity_entries
-- (0 = unlimited); without the capacity knob only the TTL is tuned (and a
-- floor at hit_margin >= 0 keeps it at or above the baseline TTL).
--
-- Tuning: stale_weight says how much worse a stale read is than a miss
-- (higher: fresher, down to the floor); byte_cost how much hit ratio a GiB
-- must buy (higher: the capacity stops growing sooner); the budgets are what
-- an operator will not exceed (a stale budget below what the baselines serve
-- wins over the floor). hit_margin is the hit ratio kept above the
-- baselines' (-1, the default: no floor, J alone decides; 0: never below
-- the configured settings; between: trimtab may trade that much hit ratio
-- for freshness), hit_window how long a surplus may be spent later (a day:
-- the TTL follows the daily load). `measure` must average the noise
-- of the load (tens of thousands of lookups); `settle` is how long the cache
-- takes to follow a TTL change (a few times the interval between two reads
-- of a hot key), `settle_capacity` how long a larger cache takes to fill
-- (a good part of the TTL), `follow` how long the hit ratio takes to follow
-- the load (about `settle`); settle + measure stays above the flap window.
-- `step` is the first step (0.2: x1.22), `min_step` the smallest (0.025:
-- 2.5 %). Cost: five reads a tick.

local GiB = 2 ^ 30
local kMinEntries = 1000   -- below it, bytes per entry is mostly fixed overhead
local kBudgetSlack = 0.02  -- a size per entry that wobbles does not cut every tick
local kFull = 0.02         -- entries this close to the capacity: the LRU evicts
local kForget = 0.9        -- weight of the past in the load calibration, per pair
local kMinLoadSpread = 0.05 ^ 2  -- (log) load changes seen before trusting a slope
local kLearn = 0.3         -- weight of a new kappa or sigma measurement

local function counters(ctx, p)
  local hits = ctx.value(p.hits_metric)
  local misses = ctx.value(p.misses_metric)
  local stale = ctx.value(p.stale_metric)
  if not (hits and misses and stale) then return nil end
  return { hits = hits, misses = misses, stale = stale }
end

-- The objective of a period from the counters' increases and the mean bytes.
local function objective(p, d, bytes)
  local lookups = d.hits + d.misses
  if lookups <= 0 then return nil end
  local staleShare = d.hits > 0 and d.stale / d.hits or 0
  local j = (d.hits - p.stale_weight * d.stale) / lookups - p.byte_cost * bytes / GiB
  return j, d.hits / lookups, staleShare
end

-- Largest capacity the memory budget allows, from the bytes per entry seen.
local function capacityLimit(p, bytes, entries)
  if entries < kMinEntries or bytes <= 0 then return math.huge end
  return math.floor(p.memory_budget / (bytes / entries))
end

-- The value a knob moves to, or nil when it cannot move that way.
local function stepped(knob, value, dir, step, limit)
  local want = value * math.exp(dir * step)
  want = math.max(knob.min, math.min(knob.max, limit, want))
  if knob.integer then want = dir > 0 and math.ceil(want) or math.floor(want) end
  if math.abs(want - value) < 1e-9 * math.max(1, value) then return nil end
  return want
end

local function wait(s, now, seconds)
  s.phase, s.until_t = "settle", now + seconds
end

-- Regression through 0 of (J, hit ratio) changes on load changes between
-- periods with the same knobs, forgetting old pairs (the load's effect moves
-- with the time of day).
local function learnLoad(s, dz, dj, dh)
  s.szz = kForget * (s.szz or 0) + dz * dz
  s.szj = kForget * (s.szj or 0) + dz * dj
  s.szh = kForget * (s.szh or 0) + dz * dh
end

local function loadSlopes(s)
  if (s.szz or 0) < kMinLoadSpread then return 0, 0 end
  return s.szj / s.szz, s.szh / s.szz
end

local function learn(old, new) return old and old + kLearn * (new - old) or new end

local function follows(p) return p.follow_load ~= 0 or p.follow_load_ttl ~= 0 end

-- Following's params must make sense: the tick fails naming the one that
-- does not (the knobs stay as they are).
local function checkFollowParams(p)
  for _, k in ipairs({ "load_window", "follow_smooth" }) do
    if not (p[k] > 0) then error(string.format("params.%s: must be above 0, got %s", k, tostring(p[k]))) end
  end
  for _, k in ipairs({ "typical_lookups", "follow_deadband", "follow_gap" }) do
    if not (p[k] >= 0) then error(string.format("params.%s: must be 0 or more, got %s", k, tostring(p[k]))) end
  end
end

-- What a knob is set to for a base value: base x factor within the knob's
-- bounds, whole for integer knobs; 0 (an unlimited capacity) stays 0.
local function actual(knob, base, factor)
  if base == 0 then return 0 end
  local value = math.max(knob.min, math.min(knob.max, base * factor))
  if knob.integer then value = math.floor(value + 0.5) end
  return value
end

-- The following state, forgotten when its params change (means built
-- with other exponents or another window mean nothing now) or when it was
-- off: base values kept from then would be stale.
local function followState(s, p)
  local sig = string.format("%.17g %.17g %.17g %.17g", p.follow_load, p.follow_load_ttl, p.load_window,
                            p.typical_lookups)
  if s.follow_sig ~= sig then
    s.follow_sig, s.mean_ra, s.mean_r, s.mean_rb, s.load_seen = sig, nil, nil, nil, nil
    s.cap_base, s.ttl_base, s.fc, s.ft = nil, nil, nil, nil
  end
end

-- The shares of the load (follow_load*): updates the means of the lookup
-- rate r = e^zf (zf: log lookups/s smoothed over `follow_smooth`, so that
-- the knobs follow the day and not its noise; the means over the time
-- seen, then over `load_window`: a day of load weighs the same whenever
-- trimtab started) and returns the capacity's factor r^a / mean(r^a) and
-- the TTL's r^-b * mean(r) / mean(r^(1-b)).
local function loadFactors(s, p, dt)
  if not s.zf then return 1, 1 end
  local a, b = p.follow_load, p.follow_load_ttl
  local ra, r, rb = math.exp(a * s.zf), math.exp(s.zf), math.exp((1 - b) * s.zf)
  if not s.mean_ra then
    if p.typical_lookups > 0 then
      -- The operator's typical load: the means start from it, as if a
      -- whole window of it had been seen.
      local t = p.typical_lookups
      s.mean_ra, s.mean_r, s.mean_rb, s.load_seen = t ^ a, t, t ^ (1 - b), p.load_window
    else
      s.mean_ra, s.mean_r, s.mean_rb, s.load_seen = ra, r, rb, 0
    end
  elseif dt > 0 then
    s.load_seen = s.load_seen + dt
    local w = math.min(1, dt / math.min(s.load_seen, p.load_window))
    s.mean_ra = s.mean_ra + w * (ra - s.mean_ra)
    s.mean_r = s.mean_r + w * (r - s.mean_r)
    s.mean_rb = s.mean_rb + w * (rb - s.mean_rb)
  end
  local fc, ft = ra / s.mean_ra, math.exp(-b * s.zf) * s.mean_r / s.mean_rb
  if not (fc > 0 and fc < math.huge and ft > 0 and ft < math.huge) then return 1, 1 end  -- NaN or overflow
  if s.load_seen < p.load_window then
    -- Until a whole window is seen the mean is a guess (a start at night
    -- takes the night for typical): no more memory nor staleness than the
    -- base values, only less.
    return math.min(fc, 1), math.min(ft, 1)
  end
  return fc, ft
end

-- What the climbing below sees of a knob that follows the load: its base
-- value, and bounds that keep base x factor within the knob's.
local function baseView(knob, base, factor)
  return { value = base, min = knob.min / factor, max = knob.max / factor, baseline = knob.baseline,
           integer = knob.integer }
end

-- One tick of the climbing; `proposed[k]` marks the knobs it proposed.
local function decide(ctx, proposed)
  local p, s = ctx.params, ctx.state
  local c = counters(ctx, p)
  local bytes = ctx.value(p.bytes_metric)
  local entries = ctx.value(p.entries_metric)
  if not (c and bytes and entries) then return end
  local ttlKnob, capKnob = ctx.knob(p.ttl_knob), ctx.knob(p.capacity_knob)
  if not ttlKnob then return end
  -- ttl and cap: the knobs, or their base values when they follow the load.
  local ttl, cap = ttlKnob, capKnob
  local following = follows(p)
  local function propose(k, value, why)
    s.changed, proposed[k] = true, true
    if k == "cap" and value > cap.value then
      -- A larger cache fills only as misses come: give it longer.
      s.until_t = math.max(s.until_t or 0, ctx.now + p.settle_capacity)
    end
    if following then
      s[k .. "_base"] = value
      value = actual(k == "cap" and capKnob or ttlKnob, value, k == "cap" and s.fc or s.ft)
    end
    ctx.propose(k == "cap" and p.capacity_knob or p.ttl_knob, value, why)
  end

  local prev, changed, prevT = s.prev, s.changed, s.prev_t
  s.prev, s.changed, s.prev_t = c, false, ctx.now
  if not s.phase then
    s.step, s.dir = p.step, -1  -- fresher first
    s.stage = "base"
    wait(s, ctx.now, p.settle)
  end

  -- A lost period: a probed knob goes back after `seconds`, then a base.
  local function void(why, seconds)
    ctx.log(why)
    s.stage, s.hold, s.cap_hold = s.probe and "back" or "base", nil, nil
    wait(s, ctx.now, seconds)
  end
  if prev then
    local dh, dm = c.hits - prev.hits, c.misses - prev.misses
    if dh < 0 or dm < 0 or c.stale < prev.stale then
      s.ratio = nil
      s.step = math.max(s.step, p.restart_step)
      return void("counters went back (a restart): measuring afresh", p.recover)
    end
    local ratio = dh + dm > 0 and dh / (dh + dm) or nil
    if ratio and s.ratio and not changed and s.ratio - ratio > p.shift_drop then
      local before = s.ratio
      s.ratio = ratio
      s.step = math.max(s.step, p.restart_step)
      return void(string.format("hit ratio %.2f -> %.2f: the load moved, exploring again", before, ratio),
                  p.recover)
    end
    s.ratio = ratio or s.ratio
    -- The load as the cache feels it: log lookups/s, lagged by `follow`.
    local dt = ctx.now - (prevT or ctx.now)
    if dh + dm > 0 and dt > 0 then
      local x = math.log((dh + dm) / dt)
      s.z = s.z and s.z + (1 - math.exp(-dt / p.follow)) * (x - s.z) or x
      s.zf = s.zf and s.zf + (1 - math.exp(-dt / p.follow_smooth)) * (x - s.zf) or x
    end
  end
  if following then
    followState(s, p)
    s.fc, s.ft = loadFactors(s, p, ctx.now - (prevT or ctx.now))
    s.ttl_base = s.ttl_base or ttlKnob.value / s.ft
    ttl = baseView(ttlKnob, s.ttl_base, s.ft)
    if capKnob then
      s.cap_base = s.cap_base or capKnob.value / s.fc
      cap = baseView(capKnob, s.cap_base, s.fc)
    end
  end

  -- The memory budget before anything else.
  local limit = capacityLimit(p, bytes, entries)
  if cap and limit < math.huge and limit >= cap.min and limit ~= cap.value
     and (cap.value > limit * (1 + kBudgetSlack) or (cap.value == 0 and bytes > p.memory_budget)) then
    s.probe, s.stage = nil, "base"
    wait(s, ctx.now, p.settle)
    propose("cap", limit, string.format("memory budget %.0f MiB at %.0f bytes per entry",
                                        p.memory_budget / 2 ^ 20, bytes / entries))
    return
  end

  if s.phase == "settle" then
    if ctx.now < s.until_t then return end
    if s.stage == "back" then
      local pr = s.probe
      s.probe, s.stage = nil, "base"
      wait(s, ctx.now, p.settle)
      propose(pr.knob, pr.from, "back from an unfinished probe")
      return
    end
    s.phase, s.start, s.start_t, s.n, s.sums = "measure", c, ctx.now, 0, { bytes = 0, z = 0, entries = 0 }
    return
  end
  s.n = s.n + 1
  s.sums.bytes, s.sums.z, s.sums.entries = s.sums.bytes + bytes, s.sums.z + (s.z or 0),
                                               s.sums.entries + entries / (following and s.fc or 1)
  if ctx.now - s.start_t < p.measure then return end
  local d = { hits = c.hits - s.start.hits, misses = c.misses - s.start.misses, stale = c.stale - s.start.stale }
  local mean = s.sums.bytes / s.n
  local j, hitRatio, staleShare = objective(p, d, mean)
  wait(s, ctx.now, p.settle)
  if not j then return end  -- no lookups: nothing to learn
  local z, held = s.sums.z / s.n, s.sums.entries / s.n
  local summary = string.format("hit ratio %.3f, stale %.2f%% of hits, cache %.0f MiB, objective %.4f",
                                hitRatio, staleShare * 100, mean / 2 ^ 20, j)
  local bound = hitRatio * (1 - hitRatio)  -- most a unit of log TTL moves the hit ratio
  -- The TTL's price in hit ratio: the bound until measured, never near 0.
  local sigma = math.max(s.sigma or bound, 0.1 * bound)

  -- The hit ratio above the baselines, at this load.
  local function gap(ttlValue)
    local g = 0
    local cap0 = cap and cap.baseline or 0
    if s.kappa and cap0 > 0 then g = s.kappa * math.max(0, held - cap0) end
    local ttl0 = ttl.baseline or ttl.value
    if ttl0 > 0 and ttlValue > 0 then g = g + sigma * math.log(ttlValue / ttl0) end
    return g
  end

  -- The hit ratio above the baselines on average over `hit_window`, and
  -- the floor of the moment: below hit_margin when the past was above it.
  local lookups = d.hits + d.misses
  local forget = math.exp(-(ctx.now - s.start_t + p.settle) / p.hit_window)
  s.cum_l = forget * (s.cum_l or 0) + lookups
  s.cum_g = forget * (s.cum_g or 0) + gap(ttl.value) * lookups
  local floor = p.hit_margin - (s.cum_g / s.cum_l - p.hit_margin)
  if p.hit_margin <= -1 then floor = -math.huge end  -- no floor: J alone decides

  -- The next move from a base measured just now: a capacity step up when
  -- the cache is full, a check of what the capacity brings when due, else
  -- a TTL probe.
  local function move()
    s.ja, s.ha, s.za, s.na, s.base_stale = j, hitRatio, z, held, staleShare
    if cap then
      local full = capKnob.value > 0 and entries >= (1 - kFull) * capKnob.value
      local want = full and not s.cap_hold and stepped(cap, cap.value, 1, p.step, limit)
      if want then
        s.probe, s.stage = { knob = "cap", from = cap.value, to = want }, "grown"
        propose("cap", want, "the cache is full: " .. summary)
        return
      end
      -- What the entries beyond the baseline capacity bring: one period
      -- at the baseline capacity (evicting is immediate), then back.
      local cap0 = cap.baseline or 0
      if p.hit_margin > -1 and cap0 > 0 and held > (1 + kFull) * cap0 and cap.value > cap0
         and ctx.now >= (s.check_t or 0) then
        s.probe, s.stage = { knob = "cap", from = cap.value, to = cap0 }, "check"
        propose("cap", cap0, "the baseline capacity's hit ratio now: " .. summary)
        return
      end
    end
    local over = staleShare > p.stale_budget
    if over then
      -- Over the stale budget (the operator's limit): no probe. The stale
      -- share of hits grows about in proportion to the TTL (a hit's age
      -- spreads up to it), so the TTL goes at once to where the share
      -- would meet the budget, by `step` at least; the next base
      -- measures it, and a share still over goes further.
      local want = stepped(ttl, ttl.value, -1, math.max(s.step, math.log(staleShare / p.stale_budget)), math.huge)
      if want then
        s.dir, s.stage = -1, "base"
        propose("ttl", want, string.format("over the stale budget of %.2f%%: %s", p.stale_budget * 100, summary))
        return
      end
    end
    local room = (gap(ttl.value) - floor) / sigma
    if over then s.dir = -1 elseif room < 0 then s.dir = 1 end
    local step = s.step
    if over then  -- over the stale budget at the TTL's lower bound: found below, look up
    elseif s.dir < 0 then
      -- A shorter TTL costs hits: no further than the room above the floor.
      if room < p.min_step then
        s.stage, s.hold = "base", true  -- no room: measure again
        return
      end
      step = math.min(step, room)
    elseif room < 0 then
      step = math.max(p.min_step, math.min(step, -room))  -- back to the floor, not beyond
    else
      step = p.min_step  -- a longer TTL for J alone: the smallest step
    end
    local want = stepped(ttl, ttl.value, s.dir, step, math.huge)
    if not want then  -- at a bound: look the other way, gently
      s.dir = -s.dir
      want = stepped(ttl, ttl.value, s.dir, p.min_step, math.huge)
    end
    if not want then
      s.stage = "base"
      return
    end
    s.probe, s.stage = { knob = "ttl", from = ttl.value, to = want }, "probe"
    propose("ttl", want, "probe: " .. summary)
  end

  local bj, bh = loadSlopes(s)
  if s.stage == "base" then
    if s.hold then learnLoad(s, z - s.za, j - s.ja, hitRatio - s.ha) end
    s.hold = nil
    move()
  elseif s.stage == "grown" then
    -- Against the period before the step, the load's part taken out.
    local pr = s.probe
    s.probe = nil
    local dz = z - s.za
    local gain, dh = j - s.ja - bj * dz, hitRatio - s.ha - bh * dz
    if gain < -p.min_gain then
      s.cap_hold, s.stage = true, "base"
      propose("cap", pr.from, string.format("%s: %g entries lost %+.4f (hit ratio %+.4f), back", summary,
                                            pr.to, gain, dh))
      return
    end
    ctx.log(string.format("cap %g -> %g: objective %+.4f, hit ratio %+.4f", pr.from, pr.to, gain, dh))
    move()
  elseif s.stage == "check" then
    local pr = s.probe
    s.probe, s.stage, s.check_t = nil, "base", ctx.now + p.check_every
    local dh = s.ha - hitRatio - bh * (s.za - z)
    s.kappa = learn(s.kappa, math.max(0, math.min(dh, hitRatio)) / (s.na - pr.to))
    propose("cap", pr.from, string.format("%s; %.0f entries beyond the baseline capacity bring %+.4f",
                                          summary, s.na - pr.to, dh))
  elseif s.stage == "probe" then
    s.jb, s.hb, s.zb, s.stage = j, hitRatio, z, "return"
    propose("ttl", s.probe.from, "probe measured: " .. summary)
  else
    local pr = s.probe
    s.probe = nil
    -- Base and return had the same knobs: what moved between them is the
    -- load's doing; it calibrates how the load moves J and the hit ratio.
    learnLoad(s, z - s.za, j - s.ja, hitRatio - s.ha)
    bj, bh = loadSlopes(s)
    local dz = s.zb - (s.za + z) / 2
    local dh = s.hb - (s.ha + hitRatio) / 2 - bh * dz
    local gain = s.jb - (s.ja + j) / 2 - bj * dz
    local dlog = math.log(pr.to / pr.from)
    s.sigma = learn(s.sigma, math.max(0, math.min(bound, dh / dlog)))
    local floorOk = gap(pr.to) >= floor or dlog > 0
    local recovers = gap(pr.from) < floor and dlog > 0 and dh > 0
    if recovers or (gain > p.min_gain and floorOk) then
      s.stage = "base"
      propose("ttl", pr.to, string.format("%s: probe gained %+.4f, hit ratio %+.4f%s", summary, gain, dh,
                                          recovers and " (under the baselines' hit ratio)" or ""))
      return
    end
    if gain < -p.min_gain then s.dir = -s.dir end
    s.step = math.max(p.min_step, s.step / 2)
    ctx.log(string.format("ttl %g -> %g: objective %+.4f, hit ratio %+.4f%s, staying at %g", pr.from, pr.to,
                          gain, dh, floorOk and "" or " (under the floor)", pr.from))
    move()
  end
end

-- A knob that follows the load moves to base x factor when it is more
-- than `follow_deadband` away, unless it was just proposed or changed
-- (`follow_gap`). The move starts the climbing's period again, at least
-- `follow_gap` later: a period is measured at one setting, and no decision
-- of the climbing reverses a move within the flap window.
local function followLoad(ctx, p, s, key, name, factor, proposed)
  local knob, base = ctx.knob(name), s[key .. "_base"]
  if proposed[key] or not (knob and base) or knob.pending then return end
  if knob.last_change and ctx.now - knob.last_change < p.follow_gap then return end
  local want = actual(knob, base, factor)
  if math.abs(want - knob.value) <= p.follow_deadband * math.max(1, knob.value) then return end
  s.changed = true
  if s.phase then s.phase, s.until_t = "settle", math.max(s.until_t or 0, ctx.now + p.follow_gap) end
  ctx.propose(name, want, string.format("following the load: %g x %.3f", base, factor))
end

return {
  name = "cache_tuning",
  description = "cache TTL and capacity on hits - stale reads - memory, above the baselines' hit ratio",
  interval = "1m",
  params = {
    ttl_knob = "cache_ttl_seconds",
    capacity_knob = "cache_capacity_entries",
    hits_metric = "cache_hits_total",
    misses_metric = "cache_misses_total",
    stale_metric = "cache_stale_reads_total",
    bytes_metric = "cache_memory_bytes",
    entries_metric = "cache_entries",
    stale_weight = 1.0,
    byte_cost = 0.02,
    stale_budget = 0.05,
    memory_budget = 1 * GiB,
    hit_margin = -1,
    settle = 300,
    settle_capacity = 1200,
    check_every = 14400,
    hit_window = 86400,
    measure = 600,
    recover = 1800,
    follow = 240,
    step = 0.2,
    min_step = 0.025,
    restart_step = 0.1,
    min_gain = 0.0005,
    shift_drop = 0.1,
    follow_load = 0,
    follow_load_ttl = 0,
    load_window = 86400,
    typical_lookups = 0,
    follow_smooth = 1800,
    follow_deadband = 0.05,
    follow_gap = 660,
  },
  tick = function(ctx)
    local p, s, proposed = ctx.params, ctx.state, {}
    if follows(p) then checkFollowParams(p) end
    decide(ctx, proposed)
    if not follows(p) then
      s.follow_sig = nil  -- following again later starts afresh
    elseif s.fc then
      followLoad(ctx, p, s, "cap", p.capacity_knob, s.fc, proposed)
      followLoad(ctx, p, s, "ttl", p.ttl_knob, s.ft, proposed)
    end
  end,
}
