-- SPDX-License-Identifier: Apache-2.0
-- triggers (policy library; `require("triggers")`): firing a trigger knob.
--
-- A trigger is a knob whose change is the action (gc_collect, cache_flush,
-- db_pool_close_idle: the value counts up), or, for one whose max is <= 1
-- (cache_trim), a fraction that says how much (the fraction to evict).
local M = {}

-- Fires trigger `name`: current + 1, or for a fraction trigger the fraction
-- itself, nudged when equal to the current value so that the governor sees
-- a change. False when the knob is not governed, or is a 0/1 integer knob
-- with max <= 1 (it could only say "everything").
function M.fire(ctx, name, reason, fraction)
  local k = ctx.knob(name)
  if not k then return false end
  local v = k.value + 1
  if k.max <= 1 then
    if k.integer then return false end
    v = fraction
    if math.abs(k.value - v) < 1e-6 then v = fraction * 0.999 end
  end
  ctx.propose(name, v, reason)
  return true
end

return M
