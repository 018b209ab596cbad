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
-- of a garbage collector's sawtooth are what the OOM killer sees). PSI is
-- looked for until the resident memory has been seen (PSI and RSS usually
-- come from the same procfs source: before its first scrape neither exists,
-- and nothing is decided); then, without PSI, the policy goes by the
-- resident memory and looks for PSI again every `psi_probe_every` (after
-- the tick's proposals: a missing read vetoes the proposals made after it).
-- PSI that stops reporting for `psi_probe_every` while the resident memory
-- is there gives way to the resident memory. Every change of the signal is
-- logged ("pressure from ...").
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
-- process_memory_limit_bytes (or `limit` in bytes). Optional (a param ""
-- skips the read and the check that needs it): gc_cpu_seconds_total and
-- gc_collections_total (a collection's pause; "": collect without a cost
-- check), cache_memory_bytes (what a trim or flush frees; "": without the
-- `min_gain_bytes` check), db_pool_connections_idle (matched by
-- `idle_match`, a label table: `{state = "idle"}` for PostgreSQL's
-- pg_stat_activity_count; "": close without counting). A missing read makes
-- the governor veto the proposals made after it in the tick: so every
-- optional metric not read in a tick is read once after its proposals
-- (which starts a rate's history, too), and one found missing is not read
-- before a proposal until it is back (lib/optional_metrics.lua);
-- meanwhile the action that needs it is skipped (its cost or gain cannot
-- be checked), and a tick that finds a metric missing before a proposal
-- proposes nothing.
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

local fire = require("triggers").fire

-- Optional metrics (params) and how each is read.
local optional = require("optional_metrics").new({
  { "gc_cpu_metric", "rate" }, { "gc_collections_metric", "rate" }, { "cache_bytes_metric", "value" },
  { "idle_metric", "value", match = "idle_match" },
})

-- Whether an action can help now; reads only what its knob needs. A check
-- whose metric is "" is left out; one whose metric is missing cannot be
-- made, and the action waits for it.
local function usable(ctx, p, st, action)
  if action == "collect" then
    if not ctx.knob(p.collect_knob) then return false end
    local cpu, why = optional.get(ctx, p, st, "gc_cpu_metric")
    local n, why_n
    if cpu then n, why_n = optional.get(ctx, p, st, "gc_collections_metric") end
    if why == "missing" or why_n == "missing" then return false end
    return not (cpu and n and n > 0 and cpu / n > p.max_collect_pause)
  elseif action == "close_idle" then
    if not ctx.knob(p.close_idle_knob) then return false end
    local idle, why = optional.get(ctx, p, st, "idle_metric")
    return why == "off" or (idle ~= nil and idle >= 1)
  end
  local name = action == "trim" and p.trim_knob or p.flush_knob
  if not ctx.knob(name) then return false end
  local bytes, why = optional.get(ctx, p, st, "cache_bytes_metric")
  local share = action == "trim" and p.trim_fraction or 1
  return why == "off" or (bytes ~= nil and bytes * share >= p.min_gain_bytes)
end

local function act(ctx, p, action, why)
  if action == "collect" then return fire(ctx, p.collect_knob, why) end
  if action == "close_idle" then return fire(ctx, p.close_idle_knob, why) end
  if action == "trim" then return fire(ctx, p.trim_knob, why, p.trim_fraction) end
  return fire(ctx, p.flush_knob, why)
end

local function use_rss(ctx, p, st, why)
  st.psi, st.psi_probed, st.psi_lost = false, ctx.now, nil
  ctx.log(string.format("pressure from %s against the limit (%s)", p.memory_metric, why))
end

-- The pressure and the thresholds to compare it with, or nil.
local function pressure(ctx, p, st)
  if p.psi_metric == "" and st.psi ~= false then use_rss(ctx, p, st, "psi_metric is \"\"") end
  if st.psi ~= false then
    local v, status = ctx.value(p.psi_metric)
    if v and status ~= "stale" then
      if st.psi ~= true then ctx.log("pressure from " .. p.psi_metric) end
      st.psi, st.psi_lost = true, nil
      return v, { p.psi_moderate, p.psi_high, p.psi_critical }, "PSI some %.1f%%"
    end
    -- No PSI now. Nothing to decide before the resident memory is there
    -- (the first scrape), nor for psi_probe_every after PSI was last seen.
    -- Either way this tick proposes nothing: the PSI read would veto it.
    st.psi_lost = st.psi_lost or ctx.now
    if ctx.value(p.memory_metric) == nil then return nil end
    if st.psi == true and ctx.now - st.psi_lost < p.psi_probe_every then return nil end
    use_rss(ctx, p, st, string.format("no %s %s", p.psi_metric, st.psi and "for " ..
                                      math.floor(ctx.now - st.psi_lost) .. " s" or "here"))
    return nil
  end
  local limit = p.limit
  if limit <= 0 then limit = ctx.value(p.limit_metric) end
  local w = ctx.window(p.memory_metric, nil, p.peak_window)
  if not (limit and limit > 0 and w and w.max) then return nil end
  return w.max / limit, { p.moderate, p.high, p.critical }, "memory peaks at %.2f of the limit"
end

-- After the tick's proposals, while on the resident memory: look for PSI
-- every psi_probe_every.
local function probe_psi(ctx, p, st)
  if st.psi == false and p.psi_metric ~= "" and ctx.now - st.psi_probed >= p.psi_probe_every then
    st.psi_probed = ctx.now
    local v, status = ctx.value(p.psi_metric)
    if v and status ~= "stale" then
      st.psi = true
      ctx.log("pressure from " .. p.psi_metric .. " (found)")
    end
  end
end

-- One tick's decision: the level, then at most one action.
local function decide(ctx, p, st)
  local x, th, fmt = pressure(ctx, p, st)
  if not x then return end
  local level = 0
  for i = #th, 1, -1 do
    if x >= th[i] then level = i break end
  end
  local current = st.level or 0
  -- Hysteresis: down only to the highest level whose leaving mark is still
  -- above x (from critical at 0.85 with the defaults: high, not moderate).
  while level < current and x >= p.leave * th[level + 1] do level = level + 1 end
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
    if not last or ctx.now - last >= p.repeat_action then
      local ok = usable(ctx, p, st, action)
      if optional.missed then return end  -- a proposal now would be vetoed: next tick
      if ok and act(ctx, p, action, string.format("%s pressure, %s: %s", LEVELS[level], what, action)) then
        st.fired[action], st.acted = ctx.now, ctx.now
        return
      end
    end
  end
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
    psi_probe_every = 600,   -- s between looks for PSI while on the resident memory
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
    idle_match = {},         -- labels of idle_metric's series to count ({state = "idle"})
  },
  -- Names the policy works without (the sim and `trimtab test` do not list
  -- them as missing): PSI, the checks' metrics, the rungs' knobs.
  optional = {
    "psi_metric", "gc_cpu_metric", "gc_collections_metric", "cache_bytes_metric", "idle_metric",
    "collect_knob", "close_idle_knob", "trim_knob", "flush_knob",
  },
  tick = function(ctx)
    local st = ctx.state
    optional.begin(st)
    decide(ctx, ctx.params, st)
    optional.probe(ctx, ctx.params, st)
    probe_psi(ctx, ctx.params, st)
  end,
}
