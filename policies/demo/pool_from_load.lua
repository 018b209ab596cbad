-- SPDX-License-Identifier: Apache-2.0
-- pool_from_load: size a database pool from the load it must carry.
--
-- Optimises: clients waiting for a connection, without holding idle
-- connections. Reads the rate of database queries (cache misses: one query
-- each) and the time a query takes; by Little's law the pool is busy with
-- rate * service_time connections on average. The pool grows when its
-- utilisation passes `grow_above` or clients wait, and shrinks only when
-- utilisation falls under `shrink_below`: the band between them is
-- hysteresis, so a load near a boundary does not make the size flap.
-- Either way the new size is busy / target_utilization.
--
-- Tune: target_utilization (lower = more headroom, more connections);
-- grow_above / shrink_below (a wider band = fewer changes, slower to give
-- connections back); waiting_threshold (waiting clients that count as a
-- shortage even when the model says the pool suffices).
return {
  name = "pool_from_load",
  interval = "2s",
  params = {
    target_utilization = 0.7,
    grow_above = 0.85,
    shrink_below = 0.45,
    waiting_threshold = 1,
    queries = "cache_misses_total",
    query_seconds = "db_query_duration_seconds",
    waiting = "db_pool_clients_waiting",
    knob = "db_pool_size",
  },
  inputs = {
    { metric = "cache_misses_total", window = "10s" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local rate = ctx.rate(p.queries, nil, "6s")
    local service = ctx.value(p.query_seconds)
    local waiting = ctx.value(p.waiting)
    if not (knob and rate and service and waiting) then
      return -- not enough data yet
    end
    local busy = rate * service                -- Little's law: connections in use
    local utilization = busy / knob.value
    local want = math.max(1, math.ceil(busy / p.target_utilization))
    local why = string.format("%.0f q/s x %.0f ms = %.1f busy connections, %.0f%% of %d",
                              rate, service * 1000, busy, utilization * 100, knob.value)
    if utilization > p.grow_above or waiting > p.waiting_threshold then
      want = math.max(want, knob.value + 1)
      ctx.propose(p.knob, want, string.format("grow: %s, %.1f waiting", why, waiting))
    elseif utilization < p.shrink_below then
      ctx.propose(p.knob, want, "shrink: " .. why)
    end
  end,
}
