-- SPDX-License-Identifier: Apache-2.0
-- interval_from_load: scrape fast when busy, slowly when idle.
--
-- Optimises: detection delay against scrape overhead. The reference rule
-- (REFERENCE-RULES.md, Stratavore) is "5 s when load > 0.8, 15 s when idle,
-- 10 s otherwise"; these are the defaults. Load is the request rate over the
-- last minute as a share of `capacity_rps`. Going to a slower interval needs
-- the load `hysteresis` below the threshold, so the interval does not flip at
-- the boundary.
return {
  name = "interval_from_load",
  description = "scrape interval from the request rate",
  interval = "10s",
  params = {
    knob = "scrape_interval_seconds",
    capacity_rps = 1000,
    busy = 0.8,
    idle = 0.3,
    hysteresis = 0.8,
    fast = 5,
    normal = 10,
    slow = 15,
    window = "1m",
  },
  inputs = {
    { metric = "app_requests_total", window = "2m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local rate = ctx.rate("app_requests_total", nil, p.window)
    if not (knob and rate) then return end
    local load = rate / p.capacity_rps
    local function level(busy, idle)
      if load > busy then return p.fast end
      if load < idle then return p.slow end
      return p.normal
    end
    local want = level(p.busy, p.idle)
    if want > knob.value then
      -- Slowing down: only when clearly below the threshold.
      want = math.max(knob.value, level(p.busy * p.hysteresis, p.idle * p.hysteresis))
    end
    if want ~= knob.value then
      ctx.propose(p.knob, want, string.format("load %.2f of %.0f requests/s", load, p.capacity_rps))
    end
  end,
}
