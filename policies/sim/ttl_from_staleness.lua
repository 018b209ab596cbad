-- SPDX-License-Identifier: Apache-2.0
-- ttl_from_staleness: keep a cache's TTL as long as its stale reads allow.
--
-- Optimises: hit ratio against stale reads. The share of hits that return
-- data changed since it was cached grows with the TTL (about proportionally
-- while it is small), so the TTL is cut by `step` while that share is above
-- `stale_target`, and lengthened by `step` while it is low enough that the
-- longer TTL would still meet the target (with a margin: no flapping). After
-- a change it waits one `window` for the measurement to reflect it, however
-- often it runs.

local scales = { [""] = 1, s = 1, m = 60, h = 3600 }
local parsed = {} -- "10m" -> 600: the window param is the same every tick

local function seconds(d)
  local v = parsed[d]
  if v then return v end
  local n, unit = tostring(d):match("^([%d.]+)(%a*)$")
  v = tonumber(n) * (scales[unit] or 1)
  parsed[d] = v
  return v
end

return {
  name = "ttl_from_staleness",
  description = "cache TTL from the stale share of hits",
  interval = "30s",
  params = {
    knob = "cache_ttl_seconds",
    stale_target = 0.005,
    window = "10m",
    step = 1.5,
    margin = 1.25,
  },
  inputs = {
    { metric = "cache_stale_reads_total", window = "10m" },
    { metric = "cache_hits_total", window = "10m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local s = ctx.state
    if s.changed and ctx.now - s.changed < seconds(p.window) then return end
    local knob = ctx.knob(p.knob)
    local stale = ctx.rate("cache_stale_reads_total", nil, p.window)
    local hits = ctx.rate("cache_hits_total", nil, p.window)
    if not (knob and stale and hits) or hits <= 0 then return end
    local share = stale / hits
    local want
    if share > p.stale_target then
      want = knob.value / p.step
    elseif share * p.step * p.margin < p.stale_target then
      want = knob.value * p.step
    else
      return
    end
    want = math.max(knob.min, math.min(knob.max, want))
    if want == knob.value then return end
    s.changed = ctx.now
    ctx.propose(p.knob, want, string.format("%.3f%% of hits stale (target %.3f%%)", share * 100, p.stale_target * 100))
  end,
}
