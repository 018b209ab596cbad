-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CORE: concurrency limited under memory pressure
-- (REFERENCE-RULES.md).
--
-- The review: "Concurrency is limited under memory pressure; tasks are
-- skipped above a memory threshold", with its database pools at "min 5 /
-- max 20" and its memory threshold at 85 %. Transcribed: the concurrency the
-- service gives its database work is its pool size (`knob`); from `high`
-- (85 %) memory up it is limited to `limited` (5, the pool's min), and once
-- memory is back under `moderate` (70 %, the lowest pressure level of
-- core_memory_pressure) it returns to `normal` (20, the pool's max).
-- Where the review is vague, the simplest faithful reading:
-- - "limited" has no amount: the pool's configured minimum;
-- - between 70 % and 85 % the size holds (the pressure levels' own band;
--   without it the size would flap at the threshold);
-- - "tasks are skipped" has no knob in a sidecar and is left out.
return {
  name = "core_concurrency_limit",
  description = "CORE: pool down to 5 from 85 % memory, back to 20 under 70 %",
  interval = "60s",
  params = {
    knob = "db_pool_size",
    memory_metric = "process_resident_memory_bytes",
    limit_metric = "process_memory_limit_bytes",
    moderate = 0.70,
    high = 0.85,
    limited = 5,
    normal = 20,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local used = ctx.value(p.memory_metric)
    local limit = ctx.value(p.limit_metric)
    if not (knob and used and limit) or limit <= 0 then return end
    local share = used / limit
    local want
    if share >= p.high then
      want = p.limited
    elseif share < p.moderate then
      want = p.normal
    else
      return
    end
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("memory at %.0f%% of the limit", share * 100))
    end
  end,
}
