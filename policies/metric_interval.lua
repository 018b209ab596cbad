-- SPDX-License-Identifier: Apache-2.0
-- metric_interval: scrape often when a watched series could reach its limit
-- soon, rarely when nothing is happening.
--
-- Optimises: scrape overhead (the CPU each scrape costs the service) against
-- detection delay (a change is seen up to one interval late, and every
-- policy reacts that much later). Each tick it asks of every watched series
-- "how close to trouble?" and takes the fastest answer:
-- - at the limit: the series is at `near` x its limit, or fewer than `z_fast`
--   standard deviations (of the last `volatility_window`) below it:
--   `fast` (5 s);
-- - near or volatile: ctx.predict.eta says it crosses the limit within
--   `eta_horizon` (probability >= `eta_probability`), or it is fewer than
--   `z_near` standard deviations below it: spend up to `volatile_budget`
--   (0.5 %) of a core on scrapes, faster if the ETA asks for it (at least
--   `samples_before_limit` scrapes before the crossing, on the ladder fast,
--   2 fast, 4 fast ...);
-- - quiet: spend up to `quiet_budget` of a core (0.1 %: 50 s at 50 ms a
--   scrape), at most `slowest` (0: the knob's max).
-- Volatility is measured against the headroom, not the level: a series that
-- swings far below its limit (a nearly idle pool going 0, 1, 0) is no risk.
-- A scrape's cost is monitoring_overhead_ratio x the interval it was measured
-- at (`overhead_metric`, `interval_metric`); where no metric gives it, set
-- `overhead_metric = ""` and `scrape_cpu` (seconds of CPU per scrape).
--
-- Hysteresis: it speeds up at once; it slows down only after every tick of
-- `calm_for` wanted a slower interval, then to the fastest of those wishes.
-- Too little history (a fresh start) counts as not calm.
--
-- Reads: the watched series against its limit (default the pool's busy
-- connections against its size: `watch_metric` against `watch_limit_metric`,
-- or a fixed `watch_limit` when that is ""; `match`, a table, selects its
-- labels, e.g. {database = "app"}), resident memory against its limit
-- (`memory_metric` against `memory_limit_metric`, both selected by
-- `memory_match` where several processes report; live: `memory_limit_metric
-- = ""` and `memory_limit` in bytes; a metric "" turns its watch off), and the
-- scrape cost. Tuning: the budgets set the overhead; `z_fast`, `z_near`,
-- `eta_horizon` and `samples_before_limit` how early it speeds up (the ETA
-- from the last `eta_window` of samples; the volatility only once the window
-- holds `min_points` of them: fewer count as not calm); `calm_for`
-- how long it waits before slowing down (keep it above the flap window,
-- 10 min by default). Cost: two value reads, a 10-minute window and a
-- prediction (asked once per scrape interval) per watched series.

-- Largest of fast, 2 fast, 4 fast ... that is at most x.
local function ladder(x, fast)
  if x <= fast then return fast end
  return fast * 2 ^ math.floor(math.log(x / fast, 2) + 1e-9)
end

-- Intervals kept to 0.1 s, so that rounding noise is not a change.
local function round(x) return math.floor(x * 10 + 0.5) / 10 end

return {
  name = "metric_interval",
  description = "scrape interval from the ETA to a limit, volatility and a scrape-CPU budget",
  interval = "5s",
  params = {
    knob = "scrape_interval_seconds",
    watch_metric = "db_pool_connections_active",
    watch_limit = 0,
    watch_limit_metric = "db_pool_size",
    memory_metric = "process_resident_memory_bytes",
    memory_limit = 0,
    memory_limit_metric = "process_memory_limit_bytes",
    memory_match = {},
    overhead_metric = "monitoring_overhead_ratio",
    interval_metric = "monitoring_scrape_interval_seconds",
    match = {},
    scrape_cpu = 0.01,
    quiet_budget = 0.001,
    volatile_budget = 0.005,
    fast = 5,
    slowest = 0,
    near = 0.9,
    eta_window = "1h",
    eta_horizon = 1800,
    eta_probability = 0.5,
    samples_before_limit = 10,
    volatility_window = 600,
    z_fast = 3,
    z_near = 6,
    min_points = 5,
    calm_for = 900,
  },

  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    if not knob then return end
    local cur = knob.value

    -- What a scrape costs, in seconds of CPU.
    local cost = p.scrape_cpu
    if p.overhead_metric ~= "" then
      local ratio = ctx.value(p.overhead_metric)
      local at = ctx.value(p.interval_metric)
      if not (ratio and at) then return end
      cost = ratio * at
    end
    local fast = math.max(p.fast, knob.min)
    local slowest = p.slowest > 0 and math.min(p.slowest, knob.max) or knob.max
    local function clamp(x) return math.max(fast, math.min(slowest, x)) end
    local quiet = clamp(cost / p.quiet_budget)
    local volatile = math.min(quiet, clamp(cost / p.volatile_budget))

    local st = ctx.state
    st.eta = st.eta or {}
    local want, why, unknown = quiet, "quiet", false
    local function faster(x, reason)
      if x < want then want, why = x, reason end
    end

    -- A window of at least min_points + 1 scrapes at the current interval.
    local span = math.max(p.volatility_window, (p.min_points + 1) * cur)
    local function watch(metric, labels, limit, limit_metric)
      if metric == "" then return true end
      local v = ctx.value(metric, labels)
      if limit_metric ~= "" then limit = ctx.value(limit_metric, labels) end
      if not (v and limit) then return false end
      if limit <= 0 then return true end -- no limit (e.g. redis maxmemory 0)
      if v >= math.min(p.near, 1) * limit then
        faster(fast, string.format("%s at %.0f%% of its limit", metric, 100 * v / limit))
        return true
      end
      -- Trend: the predicted time to the limit. New samples come once a
      -- scrape interval, so the answer is kept that long (the costly call).
      local e = st.eta[metric]
      if not (e and ctx.now - e.at < cur and e.limit == limit) then
        e = ctx.predict.eta(metric, labels, limit, { window = p.eta_window, horizon = p.eta_horizon })
        if not e then return false end
        e = { at = ctx.now, limit = limit, status = e.status, seconds = e.seconds, probability = e.probability }
        st.eta[metric] = e
      end
      if e.status == "insufficient" then
        unknown = true
      elseif e.status == "crossing" and e.probability >= p.eta_probability and e.seconds <= p.eta_horizon then
        faster(math.min(volatile, ladder(e.seconds / p.samples_before_limit, fast)),
               string.format("%s reaches its limit in %.0f s (p %.2f)", metric, e.seconds, e.probability))
      end
      -- Noise: the headroom in standard deviations of the recent window.
      local w = ctx.window(metric, labels, span)
      if not w then return false end
      if w.count < p.min_points then
        unknown = true
        return true
      end
      local z = w.stddev > 0 and (limit - v) / w.stddev or math.huge
      if z < p.z_near then
        faster(z < p.z_fast and fast or volatile,
               string.format("%s %.1f standard deviations from its limit", metric, z))
      end
      return true
    end
    if not watch(p.watch_metric, p.match, p.watch_limit, p.watch_limit_metric) then return end
    if not watch(p.memory_metric, p.memory_match, p.memory_limit, p.memory_limit_metric) then return end
    want = round(want)

    if want <= cur or unknown then
      st.calm_since, st.calm_want, st.calm_why = nil, nil, nil
      if want < cur then ctx.propose(p.knob, want, why) end
      return
    end
    -- Slower: only once every tick of calm_for wanted it, to the fastest wish.
    if not st.calm_since or want < st.calm_want then
      st.calm_since = st.calm_since or ctx.now
      st.calm_want, st.calm_why = want, why
    end
    if ctx.now - st.calm_since >= p.calm_for then
      ctx.propose(p.knob, st.calm_want, string.format("calm for %.0f s: %s", ctx.now - st.calm_since, st.calm_why))
      st.calm_since, st.calm_want, st.calm_why = nil, nil, nil
    end
  end,
}
