-- SPDX-License-Identifier: Apache-2.0
-- pool_from_queue: grow a connection pool while requests wait for a
-- connection; give connections back slowly once nobody waits.
--
-- Reads `db_pool_wait_seconds{route=...}` (how long requests of one route
-- waited for a connection) over a window. When its p90 is above
-- `target_wait`, proposes one step up; after `calm` seconds without such a
-- wait, one connection down. The governor clamps, rate-limits and vetoes
-- decisions built on stale data; this file only states the wish and why.
return {
  name = "pool_from_queue",
  description = "size db_pool_size from the time requests wait for a connection",
  interval = "5s",
  params = {
    enabled = true,
    knob = "db_pool_size",
    metric = "db_pool_wait_seconds",
    route = "/api",
    target_wait = 0.05, -- seconds; the config may write "50ms"
    window = 60,        -- seconds; the config may write "1m"
    calm = 300,         -- seconds without waiting before shrinking
  },
  -- Keep five minutes of history from start-up, before the first tick reads it.
  inputs = {
    { metric = "db_pool_wait_seconds", window = "5m" },
  },
  tick = function(ctx)
    local p = ctx.params
    if not p.enabled then return end
    local knob = ctx.knob(p.knob)
    if not knob then
      ctx.log("no knob named " .. p.knob)
      return
    end
    local p90 = ctx.quantile(p.metric, { route = p.route }, p.window, 0.9)
    if not p90 then return end -- no data yet

    ctx.state.last_wait = ctx.state.last_wait or ctx.now
    if p90 > p.target_wait then
      ctx.state.last_wait = ctx.now
      local step = knob.step > 0 and knob.step or 1
      ctx.propose(p.knob, knob.value + step,
                  string.format("p90 wait %.0f ms > target %.0f ms", p90 * 1000, p.target_wait * 1000))
    elseif ctx.now - ctx.state.last_wait >= p.calm and knob.value > knob.min then
      ctx.propose(p.knob, knob.value - 1,
                  string.format("no wait above %.0f ms for %.0f s", p.target_wait * 1000, ctx.now - ctx.state.last_wait))
    end
  end,
}
