-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CFN: cache capacity from system memory (REFERENCE-RULES.md).
--
-- The review: "LRU cache of 50 items gives a 40 % hit rate; recommended: size
-- the cache from system memory (100 items per GB), expected 75 % hit rate."
-- Transcribed: capacity = floor(`items_per_gib` (100) x memory in GiB).
-- Where the review is vague, the simplest faithful reading:
-- - "GB" is read as GiB (2^30 bytes), as memory sizes are;
-- - "system memory" is the machine's: node_memory_MemTotal_bytes. In the
--   simulator, which models one process, set `memory_metric` to
--   process_memory_limit_bytes (its memory limit).
-- The capacity follows the memory only (that is the rule): it changes when
-- the machine does.
return {
  name = "cfn_cache_capacity",
  description = "CFN: cache capacity = 100 entries per GiB of system memory",
  interval = "5m",
  params = {
    knob = "cache_capacity_entries",
    memory_metric = "node_memory_MemTotal_bytes",
    items_per_gib = 100,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local memory = ctx.value(p.memory_metric)
    if not (knob and memory) then return end
    local gib = memory / 2^30
    local want = math.floor(p.items_per_gib * gib)
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("%.1f GiB of memory x %d entries per GiB", gib, p.items_per_gib))
    end
  end,
}
