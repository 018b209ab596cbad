-- SPDX-License-Identifier: Apache-2.0
-- ttl_from_memory: shorten a cache's TTL when the host runs short of memory,
-- lengthen it back toward its baseline when memory is plentiful again.
--
-- Reads the procfs source's node_memory_MemAvailable_bytes and
-- node_memory_MemTotal_bytes. Uses the lowest availability of the last
-- `window` seconds, so one good sample does not undo a shortage.
return {
  name = "ttl_from_memory",
  interval = "10s",
  params = {
    knob = "cache_ttl_seconds",
    low = 0.15,    -- below this fraction of memory available: shorten
    high = 0.35,   -- above it: lengthen back toward the baseline
    shrink = 0.5,  -- multiply the TTL by this when short
    window = 60,   -- seconds
  },
  inputs = {
    { metric = "node_memory_MemAvailable_bytes", window = "2m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local available = ctx.window("node_memory_MemAvailable_bytes", nil, p.window)
    local total = ctx.value("node_memory_MemTotal_bytes")
    if not (knob and available and total and total > 0) then return end

    local headroom = available.min / total
    if headroom < p.low then
      ctx.propose(p.knob, math.max(knob.min, knob.value * p.shrink),
                  string.format("%.0f%% of memory available < %.0f%%", headroom * 100, p.low * 100))
    elseif headroom > p.high and knob.value < knob.baseline then
      local step = knob.step > 0 and knob.step or knob.baseline - knob.value
      ctx.propose(p.knob, math.min(knob.baseline, knob.value + step),
                  string.format("%.0f%% of memory available, back toward the baseline", headroom * 100))
    end
  end,
}
