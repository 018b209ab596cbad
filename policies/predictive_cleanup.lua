-- SPDX-License-Identifier: Apache-2.0
-- predictive_cleanup: keep a leaking process clear of its memory limit, using
-- the cheapest action that is enough (issue #7, trimtab's own cleanup policy).
--
-- Optimises: OOM kills first, then what the cleanup costs the service
-- (pauses, hit ratio, reconnects). It reads the resident memory's predicted
-- time to the limit, ctx.predict.eta (a crossing of the sawtooth's peaks, not
-- of its mean, with the probability that it happens within the horizon), and
-- acts on two time scales:
--
-- - Settings, ahead of the limit (`lead`, 6 h). When a real leak (a
--   significant upward trend: eta "crossing") is at least
--   `tighten_probability` likely to bring the peaks to `guard` (95 %) of the
--   limit within `lead`, and the peaks are already over `tighten_above`
--   (70 %: below it there is time, and a cache warming up is a trend too),
--   one step every `settle` (15 min): first the GC target (gc_percent x
--   `factor`: a smaller heap between collections, paid in GC CPU, and only
--   while the GC's measured CPU share stays under `gc_cpu_max` after the
--   step), then, late, the cache's capacity (x `factor`, only once the
--   crossing is within `cache_lead`, 2 h: paid in hit ratio). When the peaks
--   are under `loosen_below` (60 %) of the limit, after a restart say, and no
--   crossing is in sight within `loosen_eta`, both go back toward their
--   baselines, the cache first, each in one step to what still fits under
--   `loosen_below` (the cache counted full; the sawtooth's height taken as
--   proportional to the GC target), so the way back does not overshoot into
--   a new tightening. A sawtooth that returns to the same floor is not a
--   leak: eta answers "none" and nothing tightens.
-- - Actions, when the crossing of the limit itself is close (`act_within`,
--   10 min, at least `act_probability` likely): a ladder from cheap to
--   expensive, one rung at a time: a garbage collection (gc_collect), a cache
--   trim (cache_trim, `trim_fraction` of the entries, least popular first),
--   closing idle connections (db_pool_close_idle), and last a cache flush
--   (cache_flush, only when the crossing is within `flush_within`). After
--   each action the policy waits `settle_action` and looks again: if the
--   crossing is no longer close, the action was enough and it stops there
--   (so the cache is never flushed when a trim did it); only if it is still
--   close does it climb one rung. The ladder starts again from the bottom
--   after `calm` without a close crossing. It does not start within the
--   policy's first `min_history` (5 min): a prediction from the first minutes
--   of memory samples extrapolates a start-up's ramp (the heap filling to its
--   first GC target looks like a leak minutes from the limit); memory_pressure
--   answers a real emergency meanwhile. A rung is skipped when it cannot
--   help or costs too much: a collection whose pause (estimated from the GC's
--   CPU per collection, as the mark work scales with the live heap) would
--   exceed `max_collect_pause`; a trim or flush that frees less than
--   `min_gain_bytes`; closing connections when none is idle; a restart
--   within `restart_min_interval` of the last; any knob the set-up lacks.
--   The last rung is a restart (restart_knob, process_restart): when every
--   cheaper rung has fired or cannot help now (the flush waits for
--   `flush_within`; a restart, which frees the leak too, does not).
-- - A planned restart, when the settings did not bring the peaks back: a
--   leak's bytes are only freed by a restart, and a drained, planned one (a
--   rolling restart, `systemctl restart`; in the simulator
--   `planned_restart_downtime`, 5 s) costs far fewer failed requests than
--   an OOM kill (30 s down at whatever load it strikes). When the settings
--   are tightening (the GC target or the cache below its baseline; or both
--   at their floors, or the GC target held by its CPU budget) and still the
--   crossing of the limit itself is within `restart_within` (12 h, at least
--   `act_probability` likely), the policy restarts at the first quiet
--   moment: the request rate (`load_metric`, over 5 min) at or below the
--   `quiet_quantile` (0.4) of its last `load_history` samples (one every
--   `load_every`: the last 24 h), so that few requests meet the downtime and
--   the cold cache's misses find the pool idle. If no quiet moment comes, it
--   restarts anyway once the crossing is within `restart_deadline` (30 min),
--   before the ladder would start. Not in the policy's first `window` (the
--   prediction needs its history), and never twice within
--   `restart_min_interval` (6 h: a restart that did not help is not
--   repeated; memory that a restart does not free is no leak).
--
-- Reads (params, catalogue names by default): process_resident_memory_bytes
-- and process_memory_limit_bytes (or `limit` in bytes), required; the
-- memory series is selected by `memory_match` (labels: the predictions need
-- one series, so where several processes report, name the one to watch);
-- optional
-- (a param "" skips the read and the check that needs it):
-- gc_cpu_seconds_total and gc_collections_total (a collection's pause, CPU
-- per collection, and the GC's CPU share: "" collects and lowers the GC
-- target without those checks), cache_memory_bytes (what a trim or flush
-- frees: "" trims without the `min_gain_bytes` check) and cache_entries
-- (bytes per entry, for the way back), db_pool_connections_idle (matched by
-- `idle_match`, a label table: `{state = "idle"}` for PostgreSQL's
-- pg_stat_activity_count; "" closes without counting),
-- app_requests_total (the load, for the quiet moment; "": every moment is
-- quiet). A read that is missing makes the governor veto the proposals made
-- after it in the tick. So every optional metric not read in a tick is read
-- once after its proposals (which also starts a rate's history: the store
-- keeps only what is read), and one found missing is not read before a
-- proposal until it is back (lib/optional_metrics.lua); meanwhile what
-- needs it is skipped (a collection whose pause, a GC target whose CPU, a
-- trim whose gain cannot be checked; the cache's way back), as the
-- governor's veto did, but without spending the rung (the ladder goes on
-- to the next). A tick that finds a metric missing before a proposal
-- proposes nothing.
-- Knobs (params; an empty or unknown name disables a rung): gc_collect,
-- cache_trim, db_pool_close_idle, cache_flush, process_restart (triggers),
-- gc_percent, cache_capacity_entries (settings, within the governor's
-- bounds).
--
-- Tuning: `lead` must exceed the time the settings need to reach their
-- floors (steps x `settle`) at the leak's pace, `cache_lead` the time the
-- cache needs; `guard` is the margin the peaks keep; the floors themselves
-- are the knobs' bounds (how low an operator lets GOGC and the cache go);
-- `gc_cpu_max` is the GC CPU a smaller heap may cost, in cores (the rate of
-- gc_cpu_seconds_total: 0.25 is a quarter of one core; Go's soft memory
-- limit caps the GC at 50 % of GOMAXPROCS cores, so scale it by the cores
-- the process has); `max_collect_pause` should be the latency
-- headroom under the SLO; `act_within` a few scrape intervals longer than
-- `settle_action`. cache_trim is a fraction: govern it as `type: float`,
-- 0..1 (an integer 0/1 knob could only evict everything, so it is skipped).
-- `restart_within` should span at least half the load's cycle (12 h for a
-- daily one) so that a quiet moment falls within it, and stay under the
-- time the leak takes to refill after a restart (else it restarts early and
-- often); `restart_deadline` must exceed the restart's downtime plus a few
-- scrape intervals; a lower `quiet_quantile` waits for a deeper trough (0.5,
-- the median, restarts sooner and more often: less memory, more restarts;
-- 0.4 measured best on the memory_leak scenario); `load_min_samples` is how
-- many load samples make a history worth judging by (fewer: every moment is
-- quiet). `peak_window` (15 min) is where the peaks are read (the highest
-- sample), `repeat_action` how long a rung that fired waits before it may
-- fire again, `loosen_eta` (18 h) how far off a crossing must be before
-- the settings loosen, `flush_within` (120 s) how close the crossing must
-- be before a flush. Live, restart_knob is an exec actuator (`kubectl rollout restart`,
-- `systemctl restart`) behind a load balancer that drains; "" disables it.

local MiB = 2 ^ 20

-- Optional metrics (params) and how each is read.
local optional = require("optional_metrics").new({
  { "gc_cpu_metric", "rate" }, { "gc_collections_metric", "rate" }, { "cache_bytes_metric", "value" },
  { "entries_metric", "value" }, { "idle_metric", "value", match = "idle_match" },
})

local fire = require("triggers").fire

-- The ladder's rungs, cheapest first. `usable` says whether a rung can help
-- now, and why not.
local RUNGS = { "collect", "trim", "close_idle", "flush", "restart" }

-- Seconds since the last restart this policy (or anyone, through the
-- governor) fired, or nil when none is known.
local function since_restart(ctx, p, st)
  local k = ctx.knob(p.restart_knob)
  local last = st.restarted_at
  if k and k.last_change and (not last or k.last_change > last) then last = k.last_change end
  return last and ctx.now - last or nil
end

local function restart_allowed(ctx, p, st)
  if p.restart_knob == "" or not ctx.knob(p.restart_knob) then return false, "no knob" end
  local since = since_restart(ctx, p, st)
  if since and since < p.restart_min_interval then
    return false, string.format("restarted %.0f s ago", since)
  end
  return true
end

local function usable(ctx, p, st, rung, e)
  if rung == "collect" then
    if not ctx.knob(p.collect_knob) then return false, "no knob" end
    -- A GC metric "": the pause is not checked; missing: cannot be.
    local cpu, why = optional.get(ctx, p, st, "gc_cpu_metric")
    local n, why_n
    if cpu then n, why_n = optional.get(ctx, p, st, "gc_collections_metric") end
    if why == "missing" or why_n == "missing" then
      return false, "no " .. (why == "missing" and p.gc_cpu_metric or p.gc_collections_metric)
    end
    if cpu and n and n > 0 and cpu / n > p.max_collect_pause then
      return false, string.format("a collection would pause %.2f s", cpu / n)
    end
    return true
  elseif rung == "trim" or rung == "flush" then
    local name = rung == "trim" and p.trim_knob or p.flush_knob
    if not ctx.knob(name) then return false, "no knob" end
    if rung == "flush" and e.seconds > p.flush_within then return false, "not yet" end
    local bytes, why = optional.get(ctx, p, st, "cache_bytes_metric")
    if why == "missing" then return false, "no " .. p.cache_bytes_metric end
    local share = rung == "trim" and p.trim_fraction or 1
    if bytes and bytes * share < p.min_gain_bytes then return false, "frees too little" end
    return true
  end
  if rung == "restart" then return restart_allowed(ctx, p, st) end
  if not ctx.knob(p.close_idle_knob) then return false, "no knob" end
  local idle, why = optional.get(ctx, p, st, "idle_metric")
  if why == "missing" then return false, "no " .. p.idle_metric end
  if idle and idle < 1 then return false, "no idle connection" end
  return true
end

-- A planned restart: everything a restart frees (the leak above all). The
-- ladder starts over, and the settings may loosen once the memory is down.
local function restart(ctx, p, st, why)
  if not fire(ctx, p.restart_knob, why) then return false end
  st.restarted_at = ctx.now
  st.restarts = (st.restarts or 0) + 1
  st.rung, st.acted, st.before, st.calm_since, st.fired = nil, nil, nil, nil, nil
  return true
end

local function act(ctx, p, st, rung, why)
  if rung == "collect" then return fire(ctx, p.collect_knob, why) end
  if rung == "trim" then return fire(ctx, p.trim_knob, why, p.trim_fraction) end
  if rung == "close_idle" then return fire(ctx, p.close_idle_knob, why) end
  if rung == "restart" then return restart(ctx, p, st, why) end
  return fire(ctx, p.flush_knob, why)
end

-- The ladder: from rung `from` up, then from the bottom again, fire the
-- first rung that can help and did not fire in the last `repeat_action`.
local function climb(ctx, p, st, from, e, rss)
  local why = string.format("limit in %.0f s (p=%.2f, %s)", e.seconds, e.probability, e.model or "?")
  st.fired = st.fired or {}
  for k = 0, #RUNGS - 1 do
    local i = (from - 1 + k) % #RUNGS + 1
    local rung = RUNGS[i]
    local last = st.fired[rung]
    local ok, reason
    if last and ctx.now - last < p.repeat_action then
      ok, reason = false, string.format("fired %.0f s ago", ctx.now - last)
    else
      ok, reason = usable(ctx, p, st, rung, e)
      if optional.missed then return end  -- a proposal now would be vetoed: next tick
    end
    if ok and act(ctx, p, st, rung, rung .. ": " .. why) then
      if rung ~= "restart" then
        st.rung, st.acted, st.before, st.fired[rung] = i, ctx.now, rss, ctx.now
      end
      return
    end
    ctx.log(string.format("skip %s: %s", rung, reason or "no knob"))
  end
  st.acted = ctx.now
  ctx.log("nothing left that helps: " .. why)
end

-- The cache's size now and at its capacity: bytes per entry, bytes, and the
-- bytes it will hold once full; nil without cache metrics ("" or no
-- entries), nil and "missing" when one is missing.
local function cache_bytes(ctx, p, st, cap)
  local bytes, why = optional.get(ctx, p, st, "cache_bytes_metric")
  local entries, why_e
  if bytes then entries, why_e = optional.get(ctx, p, st, "entries_metric") end
  if why == "missing" or why_e == "missing" then return nil, "missing" end
  if not (bytes and entries and entries > 0) then return nil end
  local per = bytes / entries
  return per, bytes, math.max(bytes, (cap and cap.value > 0 and cap.value or entries) * per)
end

-- Tighten: one step toward the floors, the GC target first.
local function tighten(ctx, p, st, e, why)
  local gc, cap = ctx.knob(p.gc_knob), ctx.knob(p.capacity_knob)
  if gc and gc.value > gc.min * 1.001 then
    local lower = math.max(gc.min, gc.value * p.factor)
    local cpu, status
    if p.gc_cpu_max > 0 then cpu, status = optional.get(ctx, p, st, "gc_cpu_metric") end
    if optional.missed then return end
    -- the GC's CPU missing: its budget cannot be checked, the GC target stays
    if status ~= "missing" and (not cpu or cpu * gc.value / lower <= p.gc_cpu_max) then
      ctx.propose(p.gc_knob, lower, "leak: " .. why)
      st.set_at = ctx.now
      return
    end
  end
  -- The cache goes last and late: only when the crossing is within cache_lead.
  if cap and e.seconds <= p.cache_lead then
    local current = cap.value
    if current == 0 then current = optional.get(ctx, p, st, "entries_metric") or 0 end  -- 0 = unlimited
    if current > cap.min and not optional.missed then
      ctx.propose(p.capacity_knob, math.max(cap.min, math.floor(current * p.factor)), "leak: " .. why)
      st.set_at = ctx.now
    end
  end
end

-- Loosen: back toward the baselines, the cache first, each to what fits
-- under loosen_below of the limit (the cache counted full).
local function loosen(ctx, p, st, w, limit, why)
  local gc, cap = ctx.knob(p.gc_knob), ctx.knob(p.capacity_knob)
  local room = p.loosen_below * limit
  local per, bytes, full = cache_bytes(ctx, p, st, cap)
  if optional.missed or bytes == "missing" then return end  -- the cache's size is needed either way
  local base = cap and (cap.baseline > 0 and cap.baseline or cap.max)  -- baseline 0: unlimited
  if cap and cap.value > 0 and cap.value < base and per then
    local higher = math.min(base, math.floor((room - (w.max - bytes)) / per))
    if higher > cap.value * 1.1 then
      if cap.baseline == 0 and higher >= base then higher = 0 end
      ctx.propose(p.capacity_knob, higher, "headroom: " .. why)
      st.set_at = ctx.now
      return
    end
  end
  if gc and gc.value < gc.baseline then
    -- The sawtooth's height (peak - floor) grows in proportion to the target.
    local peak = w.max + (full and full - bytes or 0)
    local height = math.max(w.max - w.min, 1)
    local higher = math.min(gc.baseline, gc.value * (1 + (room - peak) / height))
    if higher > gc.value * 1.1 then
      ctx.propose(p.gc_knob, higher, "headroom: " .. why)
      st.set_at = ctx.now
    end
  end
end

-- The settings, one change per `settle`.
local function settings(ctx, p, st, e, w, limit)
  if st.set_at and ctx.now - st.set_at < p.settle then return end
  local peak = w.max / limit
  local why = string.format("peaks at %.0f%% of the limit, %.0f%% in %.1f h (p=%.2f)", peak * 100,
                            p.guard * 100, math.min(e.seconds, 1e9) / 3600, e.probability)
  local leak = e.status == "already" or (e.status == "crossing" and e.probability >= p.tighten_probability)
  if leak and peak >= p.tighten_above then
    tighten(ctx, p, st, e, why)
  elseif peak < p.loosen_below and (e.status ~= "crossing" or e.seconds > p.loosen_eta) then
    loosen(ctx, p, st, w, limit, why)
  end
end

-- Whether the cheaper settings are in play: the GC target or the cache's
-- capacity below its baseline (the leak already made them tighten), or
-- nothing left to tighten (both at their floors, or the GC target held by
-- its CPU budget and the cache at its floor; 0 = unlimited is above it).
local function tightened(ctx, p, st)
  local gc, cap = ctx.knob(p.gc_knob), ctx.knob(p.capacity_knob)
  if gc and gc.value < gc.baseline * 0.999 then return true end
  local base = cap and (cap.baseline > 0 and cap.baseline or cap.max)
  if cap and cap.value > 0 and cap.value < base then return true end
  if gc and gc.value > gc.min * 1.001 then
    local lower = math.max(gc.min, gc.value * p.factor)
    local cpu, status
    if p.gc_cpu_max > 0 then cpu, status = optional.get(ctx, p, st, "gc_cpu_metric") end
    if status ~= "missing" and (not cpu or cpu * gc.value / lower <= p.gc_cpu_max) then return false end
  end
  return not (cap and (cap.value == 0 or cap.value > cap.min))
end

-- The load: the request rate now (st.rps) and one sample of it every
-- `load_every`, the last `load_history` kept (a ring in the state: small and
-- cheap), only when there is a restart knob. Read at the end of the tick,
-- after any proposal, so that a set-up without the metric (a read that is
-- missing vetoes the proposals after it) loses the quiet moment, not the
-- actions.
local function sample_load(ctx, p, st)
  if p.load_metric == "" or p.restart_knob == "" or not ctx.knob(p.restart_knob) then return end
  local rps = ctx.rate(p.load_metric, nil, "5m")
  st.rps = rps
  if not rps then return end
  if not st.load_at or ctx.now - st.load_at >= p.load_every then
    st.load = st.load or {}
    -- A smaller load_history (a reload) drops the samples beyond it.
    for i = #st.load, p.load_history + 1, -1 do st.load[i] = nil end
    st.load_next = (st.load_next or 0) % p.load_history + 1
    st.load[st.load_next] = rps
    st.load_at = ctx.now
  end
end

-- Whether now is a quiet moment: the request rate at or below the
-- quiet_quantile of its history (quiet when there is no history to judge).
local function quiet(p, st)
  local rps = st.rps
  if not rps or not st.load or #st.load < p.load_min_samples then return true, "no load history" end
  local sorted = table.move(st.load, 1, #st.load, 1, {})
  table.sort(sorted)
  local q = sorted[math.max(1, math.ceil(p.quiet_quantile * #sorted))]
  return rps <= q, string.format("%.0f req/s, quiet at %.0f", rps, q)
end

-- The planned restart: the settings are exhausted and the limit is within
-- the budget; at a quiet moment, or at the deadline. True when it fired.
local function planned_restart(ctx, p, st, limit)
  if not restart_allowed(ctx, p, st) then return false end
  if not (st.started and ctx.now - st.started >= p.window) then return false end  -- a full window first
  local held = tightened(ctx, p, st)
  -- A metric found missing just now would veto the restart, and a vetoed
  -- restart must not count as done: next tick, with the metric on record.
  if optional.missed or not held then return false end
  local e = ctx.predict.eta(p.memory_metric, p.memory_match, limit, { window = p.window, horizon = p.restart_within })
  if not (e and (e.status == "already" or (e.status == "crossing" and e.probability >= p.act_probability))) then
    return false
  end
  local calm, load = quiet(p, st)
  local why = string.format("leak: limit in %.1f h (p=%.2f) despite the settings, %s", e.seconds / 3600,
                            e.probability, load)
  if calm then return restart(ctx, p, st, "quiet restart: " .. why) end
  if e.seconds <= p.restart_deadline then return restart(ctx, p, st, "restart at the deadline: " .. why) end
  if not st.waiting_log or ctx.now - st.waiting_log >= 3600 then
    ctx.log("waiting for a quiet moment to restart: " .. why)
    st.waiting_log = ctx.now
  end
  return false
end

-- One tick's decisions: a planned restart, the ladder, the settings.
local function decide(ctx, p, st)
  local limit = p.limit
  if limit <= 0 then limit = ctx.value(p.limit_metric) end
  local w = ctx.window(p.memory_metric, p.memory_match, p.peak_window)
  if not (limit and limit > 0 and w and w.max) then return end
  if planned_restart(ctx, p, st, limit) or optional.missed then return end

  local near, why = ctx.predict.eta(p.memory_metric, p.memory_match, limit,
                                    { window = p.window, horizon = p.act_within })
  if not near then
    ctx.log("no prediction: " .. tostring(why))
    return
  end
  local close = near.status == "already" or
                (near.status == "crossing" and near.probability >= p.act_probability)
  if close then
    st.calm_since = nil
    if ctx.now - st.started < p.min_history then
      ctx.log(string.format("limit in %.0f s, but only %.0f s of history: no action yet", near.seconds,
                            ctx.now - st.started))
      return
    end
    if not st.acted then
      climb(ctx, p, st, 1, near, w.last)
    elseif ctx.now - st.acted >= p.settle_action then
      -- Still close after the last action: it was not enough, one rung up.
      ctx.log(string.format("still close after %s (memory %.0f -> %.0f MiB)", RUNGS[st.rung or 1],
                            (st.before or w.last) / MiB, w.last / MiB))
      climb(ctx, p, st, (st.rung or 0) + 1, near, w.last)
    end
    return
  end
  if st.acted then
    st.calm_since = st.calm_since or ctx.now
    if ctx.now - st.calm_since >= p.calm then
      ctx.log(string.format("calm for %.0f s: ladder reset", ctx.now - st.calm_since))
      st.rung, st.acted, st.before, st.calm_since, st.fired = nil, nil, nil, nil, nil
    end
  end

  local far = ctx.predict.eta(p.memory_metric, p.memory_match, p.guard * limit, { window = p.window, horizon = p.lead })
  if far then settings(ctx, p, st, far, w, limit) end
end

return {
  name = "predictive_cleanup",
  description = "escalate from collection to trim to flush to a planned restart by the ETA of memory to its limit; GC target and cache capacity ahead of a leak",
  interval = "15s",
  params = {
    memory_metric = "process_resident_memory_bytes",
    limit_metric = "process_memory_limit_bytes",
    memory_match = {},           -- labels that pick the one process's memory series, e.g. {pod = "a"}
    limit = 0,                   -- bytes; > 0 replaces limit_metric
    window = 3600,               -- history the predictions use
    peak_window = 900,           -- the peaks are the highest sample of this window
    -- settings
    lead = 21600,
    guard = 0.95,
    tighten_probability = 0.5,
    cache_lead = 7200,
    tighten_above = 0.7,
    loosen_below = 0.6,
    loosen_eta = 64800,
    settle = 900,
    factor = 0.7,
    gc_cpu_max = 0.25,
    gc_knob = "gc_percent",
    capacity_knob = "cache_capacity_entries",
    -- actions
    act_within = 600,
    min_history = 300,           -- s of memory history (the policy's age) before the ladder acts
    act_probability = 0.5,
    settle_action = 60,
    calm = 900,
    repeat_action = 600,
    flush_within = 120,
    trim_fraction = 0.3,
    min_gain_bytes = 16 * 2 ^ 20,
    max_collect_pause = 0.25,
    collect_knob = "gc_collect",
    trim_knob = "cache_trim",
    close_idle_knob = "db_pool_close_idle",
    flush_knob = "cache_flush",
    gc_cpu_metric = "gc_cpu_seconds_total",
    gc_collections_metric = "gc_collections_total",
    cache_bytes_metric = "cache_memory_bytes",
    entries_metric = "cache_entries",
    idle_metric = "db_pool_connections_idle",
    idle_match = {},             -- labels of idle_metric's series to count ({state = "idle"})
    -- planned restart
    restart_knob = "process_restart",
    restart_within = 43200,
    restart_deadline = 1800,
    restart_min_interval = 21600,
    load_metric = "app_requests_total",
    quiet_quantile = 0.4,
    load_every = 600,
    load_history = 144,
    load_min_samples = 6,
  },
  -- Names the policy works without (the sim and `trimtab test` do not list
  -- them as missing): the checks' metrics, the load, the rungs' knobs.
  optional = {
    "gc_cpu_metric", "gc_collections_metric", "cache_bytes_metric", "entries_metric", "idle_metric",
    "load_metric", "gc_knob", "capacity_knob", "collect_knob", "trim_knob", "close_idle_knob", "flush_knob",
    "restart_knob",
  },
  inputs = {
    { metric = "process_resident_memory_bytes", window = "1h" },
  },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    if not ctx.predict then return end
    st.started = st.started or ctx.now
    optional.begin(st)
    decide(ctx, p, st)
    sample_load(ctx, p, st)
    optional.probe(ctx, p, st)
  end,
}
