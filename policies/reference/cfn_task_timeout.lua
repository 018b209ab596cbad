-- SPDX-License-Identifier: Apache-2.0
-- Reference rule, CFN: timeouts scaled by task complexity (REFERENCE-RULES.md).
--
-- The review: "Timeouts scaled by task complexity: base 300 s, half for low,
-- double for high." Transcribed: the timeout is `base` (300 s) times
-- `low_factor` (0.5) for low complexity, 1 for medium, `high_factor` (2) for
-- high.
-- Where the review is vague, the simplest faithful reading:
-- - a sidecar does not see a task's complexity; the service reports the
--   complexity class of its current work as a gauge (`complexity_metric`,
--   0 = low, 1 = medium, 2 = high), and values are rounded to the nearest
--   class;
-- - the timeout is one knob (`knob`, a task timeout the service reads from
--   its config, e.g. through the Redis app:config actuator); neither the
--   metric nor the knob is in the simulator, which has no tasks.
return {
  name = "cfn_task_timeout",
  description = "CFN: task timeout 300 s, halved for low complexity, doubled for high",
  interval = "30s",
  params = {
    knob = "task_timeout_seconds",
    complexity_metric = "task_complexity",
    base = 300,
    low_factor = 0.5,
    high_factor = 2,
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local complexity = ctx.value(p.complexity_metric)
    if not (knob and complexity) then return end
    local class = math.floor(complexity + 0.5)
    local want, label
    if class <= 0 then
      want, label = p.base * p.low_factor, "low"
    elseif class >= 2 then
      want, label = p.base * p.high_factor, "high"
    else
      want, label = p.base, "medium"
    end
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("%s complexity (%g): %g s x %g", label, complexity, p.base,
                                              want / p.base))
    end
  end,
}
