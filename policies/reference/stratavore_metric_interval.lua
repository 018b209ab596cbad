-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, Stratavore: adaptive metric interval (REFERENCE-RULES.md).
--
-- The review: "Metrics collected every 10 s. Recommended: adaptive interval
-- - 5 s when load > 0.8, 15 s when idle." Transcribed with its numbers as
-- the defaults: the scrape interval is `busy_interval` (5 s) while the load
-- is above `busy_above` (0.8), `idle_interval` (15 s) while it is idle,
-- `normal_interval` (10 s) otherwise.
--
-- Where the review is vague, the simplest faithful reading:
-- - "load" is not named. A load compared with 0.8 is a utilisation in 0..1:
--   by default the pool's (db_pool_utilization_ratio, the simulator's and
--   pgbouncer set-ups' name). `load_metric` names another, and `load_scale`
--   divides it (node_load1 with the number of cores, a percentage with 100).
-- - "idle" has no threshold: read as a load under 0.1 (`idle_below`).
-- - No hysteresis: the rule has none; the interval follows each reading.
-- It ticks every 10 s, the review's collection period.
return {
  name = "stratavore_metric_interval",
  description = "Stratavore: scrape every 5 s above load 0.8, 15 s when idle, 10 s otherwise",
  interval = "10s",
  params = {
    knob = "scrape_interval_seconds",
    load_metric = "db_pool_utilization_ratio",
    load_scale = 1,
    busy_above = 0.8,
    idle_below = 0.1,
    busy_interval = 5,
    normal_interval = 10,
    idle_interval = 15,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    if not (p.load_scale > 0) then
      error(string.format("params.load_scale: must be above 0, got %s", tostring(p.load_scale)))
    end
    local raw = ctx.value(p.load_metric)
    if not (knob and raw) then return end
    local load = raw / p.load_scale
    local want, why
    if load > p.busy_above then
      want, why = p.busy_interval, string.format("load %.2f > %.2f", load, p.busy_above)
    elseif load < p.idle_below then
      want, why = p.idle_interval, string.format("idle: load %.2f < %.2f", load, p.idle_below)
    else
      want, why = p.normal_interval, string.format("load %.2f", load)
    end
    if want ~= knob.value then ctx.propose(p.knob, want, why) end
  end,
}
