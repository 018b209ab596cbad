-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, Stratavore: PostgreSQL pool size from load
-- (REFERENCE-RULES.md).
--
-- The review: "PostgreSQL pool: MaxConns/MinConns configurable ...;
-- recommended: auto-tune pool size from load." It gives no formula, so the
-- simplest faithful reading: size the pool so that its load (busy
-- connections / pool size) sits at the review's own "busy" mark, 0.8 (the
-- threshold of its adaptive interval): size = ceil(busy / `target_load`),
-- within MinConns..MaxConns (`min_conns`, `max_conns`; 0: the knob's
-- bounds). Busy connections are db_pool_connections_active. The size
-- follows every reading (no hysteresis: the rule has none); a saturated pool
-- (busy = size) grows by a quarter per tick.
return {
  name = "stratavore_pool_size",
  description = "Stratavore: pool size = busy connections / 0.8, within MinConns..MaxConns",
  interval = "10s",
  params = {
    knob = "db_pool_size",
    busy_metric = "db_pool_connections_active",
    target_load = 0.8,
    min_conns = 0,
    max_conns = 0,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local busy = ctx.value(p.busy_metric)
    if not (knob and busy) then return end
    local low = p.min_conns > 0 and p.min_conns or knob.min
    local high = p.max_conns > 0 and p.max_conns or knob.max
    local want = math.max(low, math.min(high, math.ceil(busy / p.target_load)))
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("%.1f busy connections at load %.2f of %d",
                                              busy, knob.value > 0 and busy / knob.value or 0, knob.value))
    end
  end,
}
