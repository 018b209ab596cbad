-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, Stratavore: cache TTL tuned from the hit/miss ratio
-- (REFERENCE-RULES.md).
--
-- The review: "Redis cache with a TTL per data type; recommended: track
-- hit/miss ratio and tune TTL dynamically from access patterns." It gives no
-- number, so the simplest faithful reading, with figures from the other
-- reviews:
-- - the hit ratio is hits / (hits + misses) over `window` (5 min), from the
--   counters' rates;
-- - under `low` (0.8, CORE's SLO "cache hit rate > 80 %") entries expire too
--   soon: the TTL is multiplied by `factor` (2, the simplest step);
-- - above `high` (0.95, the hit rate CODE measured) the cache keeps more
--   than it needs: the TTL is divided by `factor` (fresher data, less memory);
-- - in between, or without traffic, nothing changes.
-- "Per data type": one instance of the policy per type, its `knob` that
-- type's TTL and `type_value` selecting its series by the `type_label` label
-- (empty: every series). "Pre-warm hot keys" has no knob and is left out.
-- Counter names default to the simulator's; a Redis source publishes
-- redis_keyspace_hits_total and redis_keyspace_misses_total.
return {
  name = "stratavore_cache_ttl",
  description = "Stratavore: TTL x2 under an 80 % hit ratio, /2 above 95 %",
  interval = "1m",
  params = {
    knob = "cache_ttl_seconds",
    hits_metric = "cache_hits_total",
    misses_metric = "cache_misses_total",
    type_label = "type",
    type_value = "",
    window = 300,
    low = 0.8,
    high = 0.95,
    factor = 2,
  },
  inputs = {
    { metric = "cache_hits_total", window = "5m" },
    { metric = "cache_misses_total", window = "5m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local labels = p.type_value ~= "" and { [p.type_label] = p.type_value } or nil
    local hits = ctx.rate(p.hits_metric, labels, p.window)
    local misses = ctx.rate(p.misses_metric, labels, p.window)
    if not (knob and hits and misses) or hits + misses <= 0 then return end
    local ratio = hits / (hits + misses)
    if ratio < p.low and knob.value < knob.max then
      ctx.propose(p.knob, math.min(knob.max, knob.value * p.factor),
                  string.format("hit ratio %.1f%% < %.0f%%: keep entries longer", ratio * 100, p.low * 100))
    elseif ratio > p.high and knob.value > knob.min then
      ctx.propose(p.knob, math.max(knob.min, knob.value / p.factor),
                  string.format("hit ratio %.1f%% > %.0f%%: expire sooner", ratio * 100, p.high * 100))
    end
  end,
}
