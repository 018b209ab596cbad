-- SPDX-License-Identifier: Apache-2.0
-- memory_guard: keep the peaks of a garbage-collected heap under the limit.
--
-- Optimises: OOM kills against GC CPU and cache hits. The peaks of the GC
-- sawtooth are what an OOM killer sees, so the policy watches the highest
-- resident memory over `window`. Above `high` of the limit it lowers the GC
-- target (gc_percent: a smaller heap between collections, more collections);
-- above `critical` it also shrinks the cache's capacity by `cache_cut`. When
-- the peaks are back under `low` it gives both back, step by step (the
-- reference rules' "memory pressure levels" with a way back).

local function reason(peak)
  return string.format("memory peaks at %.0f%% of the limit", peak * 100)
end

return {
  name = "memory_guard",
  description = "GC target and cache capacity from memory peaks",
  interval = "15s",
  params = {
    high = 0.8,
    critical = 0.9,
    low = 0.65,
    window = "5m",
    gc_min = 20,
    gc_max = 100,
    gc_factor = 0.7,
    cache_knob = "cache_capacity_entries",
    cache_cut = 0.7,
    cache_min = 1000,
  },
  inputs = {
    { metric = "process_resident_memory_bytes", window = "5m" },
  },
  tick = function(ctx)
    local p = ctx.params
    local limit = ctx.value("process_memory_limit_bytes")
    local w = ctx.window("process_resident_memory_bytes", nil, p.window)
    local gc = ctx.knob("gc_percent")
    if not (limit and w and w.max and gc) or limit <= 0 then return end
    local peak = w.max / limit
    if peak > p.high then
      local lower = math.max(p.gc_min, gc.value * p.gc_factor)
      if lower < gc.value then ctx.propose("gc_percent", lower, reason(peak)) end
      if peak > p.critical then
        local cache = ctx.knob(p.cache_knob)
        if cache and cache.value > p.cache_min then
          ctx.propose(p.cache_knob, math.max(p.cache_min, math.floor(cache.value * p.cache_cut)), reason(peak))
        end
      end
    elseif peak < p.low then
      if gc.value < p.gc_max then ctx.propose("gc_percent", math.min(p.gc_max, gc.value / p.gc_factor), reason(peak)) end
      local cache = ctx.knob(p.cache_knob)
      if cache and cache.value < cache.baseline then
        ctx.propose(p.cache_knob, math.min(cache.baseline, math.ceil(cache.value / p.cache_cut)), reason(peak))
      end
    end
  end,
}
