-- SPDX-License-Identifier: Apache-2.0
-- pool_size: size a database connection pool from the connections it keeps busy.
--
-- Optimises: clients waiting for a connection (timeouts, p95) against open
-- connections (memory, database contention). By Little's law the pool is busy
-- with queries/s x query time connections, which db_pool_connections_active
-- measures; the pool holds that divided by a target utilisation, plus a
-- margin. It grows at once, from the current demand, and by at least the
-- queue when clients wait. It shrinks only to what the busiest moment of the
-- last `shrink_window` needed (plus `shrink_headroom`), and only by
-- `min_shrink` or more, so noise does not make it flap. It never goes past `ceiling` (beyond the database's
-- Universal Scalability Law peak more connections slow every query; 0 = the
-- knob's max).
-- Connections for `busy` at the target utilisation, plus the margin.
local function size(p, busy) return math.ceil(busy / p.target_utilization) + p.margin end

return {
  name = "pool_size",
  description = "pool size from busy connections and waiting clients",
  interval = "5s",
  params = {
    knob = "db_pool_size",
    target_utilization = 0.75,
    margin = 2,
    waiting_threshold = 0.5,
    shrink_window = "10m",
    min_shrink = 2,
    shrink_headroom = 2,
    ceiling = 0,
  },
  inputs = {
    { metric = "db_pool_connections_active", window = "10m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local active = ctx.value("db_pool_connections_active")
    local waiting = ctx.value("db_pool_clients_waiting")
    local recent = ctx.window("db_pool_connections_active", nil, p.shrink_window)
    if not (knob and active and waiting and recent and recent.max) then return end
    -- Reasons are formatted only when proposing: most ticks change nothing.
    local want, why = size(p, active), "busy"
    if waiting > p.waiting_threshold and knob.value + math.ceil(waiting) > want then
      want, why = knob.value + math.ceil(waiting), "waiting"
    end
    if want <= knob.value then
      -- Shrink to the busiest moment of the window, not to now, and keep
      -- some headroom over it: a bump of noise must not grow it right back.
      want, why = size(p, recent.max) + p.shrink_headroom, "recent"
      if knob.value - want < p.min_shrink then return end
    end
    if p.ceiling > 0 and want > p.ceiling then want = p.ceiling end
    if want == knob.value then return end
    if why == "busy" then
      why = string.format("%.1f busy connections at %.0f%% target utilisation", active, p.target_utilization * 100)
    elseif why == "waiting" then
      why = string.format("%.1f clients waiting at pool size %d", waiting, knob.value)
    else
      why = string.format("at most %.1f busy connections in %s", recent.max, p.shrink_window)
    end
    ctx.propose(p.knob, want, why)
  end,
}
