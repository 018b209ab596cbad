-- SPDX-License-Identifier: Apache-2.0
-- pool_from_load: size a database pool from the load it must carry.
--
-- Optimises: clients waiting for a connection, without holding idle
-- connections. Reads the rate of database queries (cache misses: one query
-- each) and the time a query takes; by Little's law the pool is busy with
-- rate * service_time connections on average, so it needs that much divided
-- by a target utilisation. Waiting clients add a correction when the model
-- underestimates (bursts, slow queries).
--
-- Tune: target_utilization (lower = more headroom, more connections),
-- waiting_threshold (how many waiting clients count as a shortage).
return {
  name = "pool_from_load",
  interval = "2s",
  params = {
    target_utilization = 0.7,
    waiting_threshold = 0.5,
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
      return -- not enough data yet; the governor would veto anyway
    end
    local busy = rate * service                    -- Little's law: connections in use
    local want = math.ceil(busy / p.target_utilization)
    local why = string.format("load %.1f q/s x %.0f ms = %.2f busy connections at %.0f%% target",
                              rate, service * 1000, busy, p.target_utilization * 100)
    if waiting > p.waiting_threshold and want <= knob.value then
      want = knob.value + math.max(1, math.ceil(waiting / 4))
      why = string.format("%.1f clients waiting at pool size %d", waiting, knob.value)
    end
    ctx.propose(p.knob, want, why)
  end,
}
