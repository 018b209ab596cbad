-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CORE: memory pressure levels and their responses
-- (REFERENCE-RULES.md).
--
-- The review: "MODERATE -> collect garbage (not forced); HIGH -> forced
-- collection and clear object pools; CRITICAL -> clear all caches", with a
-- memory alert (and SLO) at 85 %. Transcribed, memory being resident memory
-- over its limit:
-- - at `moderate` (70 %) and above: a garbage collection (`collect_knob`);
-- - at `high` (85 %, the review's memory threshold) and above: also clear
--   the object pools (`pools_knob`);
-- - at `critical` (95 %) and above: also clear all caches (`caches_knob`).
-- Where the review is vague, the simplest faithful reading:
-- - it names the levels but not their boundaries; only 85 % is its own, 70 %
--   and 95 % are ours (the usual steps below and above it);
-- - the responses add up: a higher level also does what the lower ones do;
-- - the simulator has one collection, a forced one (gc_collect), so
--   MODERATE and HIGH collect the same way; "object pools" are the pooled
--   resources a service holds, its idle database connections
--   (db_pool_close_idle);
-- - the responses repeat every tick while the level lasts; the review gives
--   no period, so the policy ticks at its cache's cleanup period, 60 s.
-- The cleanup knobs are triggers: proposing current + 1 fires one. A knob
-- the set-up lacks (no cache, say) is skipped.
return {
  name = "core_memory_pressure",
  description = "CORE: collect at 70 %, also clear pools at 85 %, also clear caches at 95 % memory",
  interval = "60s",
  params = {
    memory_metric = "process_resident_memory_bytes",
    limit_metric = "process_memory_limit_bytes",
    moderate = 0.70,
    high = 0.85,
    critical = 0.95,
    collect_knob = "gc_collect",
    pools_knob = "db_pool_close_idle",
    caches_knob = "cache_flush",
  },
  tick = function(ctx)
    local p = ctx.params
    local used = ctx.value(p.memory_metric)
    local limit = ctx.value(p.limit_metric)
    if not (used and limit) or limit <= 0 then return end
    local share = used / limit
    local level, actions
    if share >= p.critical then
      level, actions = "critical", { p.collect_knob, p.pools_knob, p.caches_knob }
    elseif share >= p.high then
      level, actions = "high", { p.collect_knob, p.pools_knob }
    elseif share >= p.moderate then
      level, actions = "moderate", { p.collect_knob }
    else
      return
    end
    local why = string.format("memory at %.0f%% of the limit: %s pressure", share * 100, level)
    ctx.log(why)
    for _, name in ipairs(actions) do
      local knob = ctx.knob(name)
      if knob then ctx.propose(name, knob.value + 1, why) end
    end
  end,
}
