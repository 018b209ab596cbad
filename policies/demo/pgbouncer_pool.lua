-- SPDX-License-Identifier: Apache-2.0
-- pgbouncer_pool: size a pgbouncer pool from its queue (scripts/demo-servers).
--
-- Optimises: clients waiting for a server connection, without holding server
-- connections nobody uses. Reads `SHOW POOLS` through the pgbouncer source:
-- clients waiting (cl_waiting) mean the pool is too small, so it grows by a
-- share of the queue; when nobody has waited for `calm_ticks` ticks and the
-- busiest moment of the last `window` used well under the pool, it shrinks
-- to that peak plus `headroom`. The governor bounds each step (max_step,
-- cooldown) and the pgbouncer_pool_size actuator applies it.
--
-- Tune: grow_share (1 = add a connection per waiting client), headroom
-- (spare connections kept over the recent peak), calm_ticks (patience before
-- giving connections back), database (the pool, by pgbouncer database name).
return {
  name = "pgbouncer_pool",
  interval = "2s",
  params = {
    database = "app",
    knob = "pgbouncer_pool_size",
    waiting_threshold = 1,
    grow_share = 0.5,
    headroom = 2,
    calm_ticks = 3,
    window = "10s",
  },
  inputs = {
    { metric = "pgbouncer_pools_server_active_connections", window = "30s" },
  },
  tick = function(ctx)
    local p = ctx.params
    local db = { database = p.database }
    local knob = ctx.knob(p.knob)
    local waiting = ctx.value("pgbouncer_pools_client_waiting_connections", db)
    local maxwait = ctx.value("pgbouncer_pools_client_maxwait_seconds", db, "max")
    local busy = ctx.window("pgbouncer_pools_server_active_connections", db, p.window)
    if not (knob and waiting and maxwait and busy) then
      return -- no data yet (or the source is down: nothing to decide on)
    end
    local size = knob.value
    if waiting >= p.waiting_threshold then
      ctx.state.calm = 0
      local want = size + math.max(1, math.ceil(waiting * p.grow_share))
      ctx.propose(p.knob, want, string.format("grow: %d clients waiting (oldest %.0f ms), pool %d",
                                              waiting, maxwait * 1000, size))
      return
    end
    ctx.state.calm = (ctx.state.calm or 0) + 1
    local want = math.max(knob.min, math.ceil(busy.max) + p.headroom)
    if ctx.state.calm >= p.calm_ticks and want < size then
      ctx.propose(p.knob, want, string.format("shrink: nobody waited for %d ticks, at most %d of %d busy in %s",
                                              ctx.state.calm, busy.max, size, p.window))
    end
  end,
}
