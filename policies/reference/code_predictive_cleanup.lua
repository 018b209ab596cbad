-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CODE: predictive memory cleanup (REFERENCE-RULES.md).
--
-- The review: "analyse the memory trend over a 15 min window; if the trend
-- is increasing and the predicted time to the threshold is under 300 s, run
-- a pre-emptive cleanup. Memory pressure threshold 80 %, cleanup every 60 s."
-- Transcribed with its numbers as the defaults: every 60 s, memory (resident
-- over its limit) is sampled; the trend is the least-squares slope of the
-- samples of the last `window` (15 min); when it is rising and memory
-- reaches `threshold` (80 %) within `lead` (300 s) at that slope, or already
-- has, the cleanup fires (`cleanup_knob`, a trigger: current + 1).
--
-- Where the review is vague, the simplest faithful reading:
-- - "the trend" is a straight line fitted by least squares, as such a
--   memory manager computes it. Deliberately not ctx.predict: its models
--   (sawtooth floors, significance tests) are trimtab's improvement, not the
--   review's rule. ctx.window returns statistics, not points, so the policy
--   keeps its own samples {time, share} in ctx.state, one per tick;
-- - it needs `min_samples` (3) samples to call a trend;
-- - "cleanup" is a garbage collection (gc_collect), the one cleanup every
--   runtime has; `cleanup_knob` names another trigger.

-- Least-squares slope of {t, v} samples, per second (samples at distinct times).
local function slope(samples)
  local n, st, sv = #samples, 0, 0
  for _, s in ipairs(samples) do st, sv = st + s[1], sv + s[2] end
  local mt, mv = st / n, sv / n
  local num, den = 0, 0
  for _, s in ipairs(samples) do
    num = num + (s[1] - mt) * (s[2] - mv)
    den = den + (s[1] - mt) ^ 2
  end
  return num / den
end

return {
  name = "code_predictive_cleanup",
  description = "CODE: clean up when the 15 min memory trend reaches 80 % within 300 s",
  interval = "60s",
  params = {
    memory_metric = "process_resident_memory_bytes",
    limit_metric = "process_memory_limit_bytes",
    cleanup_knob = "gc_collect",
    window = 900,
    threshold = 0.8,
    lead = 300,
    min_samples = 3,
  },
  tick = function(ctx)
    local p = ctx.params
    local used = ctx.value(p.memory_metric)
    local limit = ctx.value(p.limit_metric)
    local knob = ctx.knob(p.cleanup_knob)
    if not (used and limit and knob) or limit <= 0 then return end
    local share = used / limit

    local kept = {}
    for _, s in ipairs(ctx.state.samples or {}) do
      if s[1] > ctx.now - p.window and s[1] < ctx.now then kept[#kept + 1] = s end
    end
    kept[#kept + 1] = { ctx.now, share }
    ctx.state.samples = kept
    if #kept < p.min_samples then return end

    local rise = slope(kept)
    if rise <= 0 then return end
    local eta = math.max(0, (p.threshold - share) / rise)
    ctx.state.eta = eta
    if eta < p.lead then
      ctx.propose(p.cleanup_knob, knob.value + 1,
                  string.format("memory at %.1f%% rising %.3f%%/min: %.0f%% in %.0f s < %.0f s",
                                share * 100, rise * 6000, p.threshold * 100, eta, p.lead))
    end
  end,
}
