-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CODE: database pool kept within 10..50 (REFERENCE-RULES.md).
--
-- The review: "DB pool: min 10, max 50 (from 20), overflow 20, pool timeout
-- 10 s ..." and an alert at "pool utilisation > 85 %". Transcribed: the pool
-- follows its demand (connections busy plus clients waiting for one) with
-- the utilisation held at the alert's 85 % (`max_utilization`), and never
-- leaves `min_size`..`max_size` (10..50): size = clamp(ceil(demand / 0.85),
-- 10, 50).
-- Where the review is vague, the simplest faithful reading:
-- - a pool with a min and a max grows on demand and gives connections back
--   when idle (as SQLAlchemy's pool does with its overflow); "overflow 20"
--   is the part of that growth above the persistent connections and needs
--   no knob of its own;
-- - the pool timeout is a static setting, not a rule, and is left to the
--   config.
return {
  name = "code_pool_bounds",
  description = "CODE: pool = demand / 0.85, kept within 10..50",
  interval = "10s",
  params = {
    knob = "db_pool_size",
    busy_metric = "db_pool_connections_active",
    waiting_metric = "db_pool_clients_waiting",
    max_utilization = 0.85,
    min_size = 10,
    max_size = 50,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local busy = ctx.value(p.busy_metric)
    local waiting = ctx.value(p.waiting_metric)
    if not (knob and busy and waiting) then return end
    local demand = busy + waiting
    local want = math.max(p.min_size, math.min(p.max_size, math.ceil(demand / p.max_utilization)))
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("demand %.1f connections (%.1f busy, %.1f waiting) at %.0f%%, within %d..%d",
                                              demand, busy, waiting, p.max_utilization * 100, p.min_size, p.max_size))
    end
  end,
}
