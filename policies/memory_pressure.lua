-- SPDX-License-Identifier: Apache-2.0
-- memory_pressure: respond to memory pressure as it happens, with levels
-- (CORE's moderate / high / critical), hysteresis, and the cheapest action
-- first (issue #7, trimtab's own pressure policy).
--
-- Optimises: getting out of memory pressure at the least cost. The pressure
-- is the kernel's own measure where it has one, PSI (`psi_metric`,
-- node_pressure_memory_some_avg10: the share of the last 10 s in which some
-- task stalled on memory, in percent), and otherwise the process's resident
-- memory against its limit (the highest sample of `peak_window`: the peaks
-- of a garbage collector's sawtooth are what the OOM killer sees). Whether
-- PSI exists is probed on the first tick (a missing input vetoes that tick's
-- proposals; from then on the policy reads only what exists).
--
-- Levels: moderate, high, critical at `moderate`, `high`, `critical` (RSS
-- share of the limit: 0.80, CODE's pressure threshold; 0.90, CFN's alert;
-- 0.97, just short of the kill) or `psi_moderate`, `psi_high`,
-- `psi_critical` (10, 25, 50 % of wall time stalled; ours). A level is
-- entered at its threshold and left only below `leave` (0.9) times it.
-- Responses add up as CORE's do, each level allowing more:
--   moderate: a garbage collection;
--   high:     + closing idle connections (CORE's "clear object pools"),
--             + a cache trim of `trim_fraction` of the entries;
--   critical: + a cache flush.
-- but they are not fired all at once: one action, the cheapest allowed not
-- yet tried, then `settle` seconds to see whether the pressure eased (the
-- level dropped) before the next. An action that fired is not fired again
-- for `repeat_action` (the pressure may come from something no cleanup
-- frees, a leak say: then churning caches only costs). Leaving every level
-- starts the ladder over. Actions that cannot help are skipped: a
-- collection whose pause (the GC's CPU per collection) exceeds
-- `max_collect_pause`, a trim or flush that frees less than `min_gain_bytes`,
-- closing connections when none is idle, a knob the set-up lacks.
--
-- Reads (params, catalogue names by default): node_pressure_memory_some_avg10
-- (set `psi_metric` to "" to skip it), process_resident_memory_bytes,
-- process_memory_limit_bytes (or `limit` in bytes), gc_cpu_seconds_total and
-- gc_collections_total (`gc_cpu_metric` "": collect without a cost check),
-- cache_memory_bytes, db_pool_connections_idle.
-- Knobs (triggers, params): gc_collect, db_pool_close_idle, cache_trim (a
-- fraction: govern it as `type: float`, 0..1), cache_flush.
--
-- Tuning: thresholds in the unit of the source (share of the limit, or PSI
-- percent); `leave` closer to 1 reacts to smaller relief; `settle` at least
-- two scrape intervals so that an action's effect is seen; `repeat_action`
-- longer than the time the cache takes to refill.

local LEVELS = { "moderate", "high", "critical" }
local ACTIONS = {
  { "collect" },
  { "collect", "close_idle", "trim" },
  { "collect", "close_idle", "trim", "flush" },
}

-- Fires trigger `name`: current + 1, or for a fraction trigger (max <= 1,
-- cache_trim) the fraction, nudged when equal to the current value.
local function fire(ctx, name, reason, fraction)
  local k = ctx.knob(name)
  if not k then return false end
  local v = k.value + 1
  if k.max <= 1 then
    if k.integer then return false end
    v = fraction
    if math.abs(k.value - v) < 1e-6 then v = fraction * 0.999 end
  end
  ctx.propose(name, v, reason)
  return true
end

-- Whether an action can help now; reads only what its knob needs.
local function usable(ctx, p, action)
  if action == "collect" then
    if not ctx.knob(p.collect_knob) then return false end
    if p.gc_cpu_metric == "" then return true end  -- no GC metrics: the cost is unknown
    local cpu = ctx.rate(p.gc_cpu_metric, nil, "5m")
    local n = ctx.rate(p.gc_collections_metric, nil, "5m")
    return not (cpu and n and n > 0 and cpu / n > p.max_collect_pause)
  elseif action == "close_idle" then
    if not ctx.knob(p.close_idle_knob) then return false end
    local idle = ctx.value(p.idle_metric)
    return idle ~= nil and idle >= 1
  end
  local name = action == "trim" and p.trim_knob or p.flush_knob
  if not ctx.knob(name) then return false end
  local bytes = ctx.value(p.cache_bytes_metric)
  local share = action == "trim" and p.trim_fraction or 1
  return bytes ~= nil and bytes * share >= p.min_gain_bytes
end

local function act(ctx, p, action, why)
  if action == "collect" then return fire(ctx, p.collect_knob, why) end
  if action == "close_idle" then return fire(ctx, p.close_idle_knob, why) end
  if action == "trim" then return fire(ctx, p.trim_knob, why, p.trim_fraction) end
  return fire(ctx, p.flush_knob, why)
end

-- The pressure and the thresholds to compare it with, or nil.
local function pressure(ctx, p, st)
  if p.psi_metric ~= "" and st.psi ~= false then
    local v = ctx.value(p.psi_metric)
    if v then
      st.psi = true
      return v, { p.psi_moderate, p.psi_high, p.psi_critical }, "PSI some %.1f%%"
    end
    if st.psi == nil then
      st.psi = false
      ctx.log("no " .. p.psi_metric .. ": resident memory against the limit from now on")
    end
    return nil
  end
  local limit = p.limit
  if limit <= 0 then limit = ctx.value(p.limit_metric) end
  local w = ctx.window(p.memory_metric, nil, p.peak_window)
  if not (limit and limit > 0 and w and w.max) then return nil end
  return w.max / limit, { p.moderate, p.high, p.critical }, "memory peaks at %.2f of the limit"
end

return {
  name = "memory_pressure",
  description = "memory pressure levels from PSI or RSS, with hysteresis and the cheapest action first",
  interval = "15s",
  params = {
    psi_metric = "node_pressure_memory_some_avg10",
    psi_moderate = 10,
    psi_high = 25,
    psi_critical = 50,
    memory_metric = "process_resident_memory_bytes",
    limit_metric = "process_memory_limit_bytes",
    limit = 0,               -- bytes; > 0 replaces limit_metric
    moderate = 0.80,
    high = 0.90,
    critical = 0.97,
    peak_window = 60,
    leave = 0.9,
    settle = 60,
    repeat_action = 1800,
    trim_fraction = 0.3,
    min_gain_bytes = 16 * 2 ^ 20,
    max_collect_pause = 0.25,
    collect_knob = "gc_collect",
    close_idle_knob = "db_pool_close_idle",
    trim_knob = "cache_trim",
    flush_knob = "cache_flush",
    gc_cpu_metric = "gc_cpu_seconds_total",
    gc_collections_metric = "gc_collections_total",
    cache_bytes_metric = "cache_memory_bytes",
    idle_metric = "db_pool_connections_idle",
  },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    local x, th, fmt = pressure(ctx, p, st)
    if not x then return end
    local level = 0
    for i = #th, 1, -1 do
      if x >= th[i] then level = i break end
    end
    local current = st.level or 0
    if level < current and x >= p.leave * th[current] then level = current end  -- hysteresis
    local what = string.format(fmt, x)
    if level ~= current then
      ctx.log(string.format("%s -> %s: %s", LEVELS[current] or "none", LEVELS[level] or "none", what))
      st.level = level
    end
    if level == 0 then
      st.level, st.fired, st.acted = nil, nil, nil
      return
    end
    if st.acted and ctx.now - st.acted < p.settle then return end  -- judge the last action first
    st.fired = st.fired or {}
    for _, action in ipairs(ACTIONS[level]) do
      local last = st.fired[action]
      if (not last or ctx.now - last >= p.repeat_action) and usable(ctx, p, action) then
        if act(ctx, p, action, string.format("%s pressure, %s: %s", LEVELS[level], what, action)) then
          st.fired[action], st.acted = ctx.now, ctx.now
          return
        end
      end
    end
  end,
}
