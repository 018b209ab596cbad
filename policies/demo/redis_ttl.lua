-- SPDX-License-Identifier: Apache-2.0
-- redis_ttl: keep a Redis cache inside a memory band by its TTL
-- (scripts/demo-servers).
--
-- Optimises: hit ratio, under a memory ceiling. Above `memory_high` the TTL
-- is cut by `shrink_factor`: the application learns it through app:config
-- (knob `knob`, redis_app_config actuator) and the keys already cached get it
-- too (knob `expire_knob`, redis_ttl actuator: batched SCAN + EXPIRE LT), so
-- memory falls now rather than after the old TTLs run out. Below
-- `memory_low`, with the hit ratio under `target_hit_ratio`, the TTL grows
-- back by `grow_factor` (application only: shortening keys is one-way). In
-- between nothing changes: the band is hysteresis. Memory answers a shorter
-- TTL only once the keys older than it have expired, so after a cut the
-- policy waits that long (the new TTL plus two ticks, at most `settle`)
-- before cutting again.
--
-- Tune: memory_high / memory_low (sizes: "24MiB"), target_hit_ratio,
-- shrink_factor / grow_factor (how hard each step is), settle (patience
-- after a cut), window (of the hit ratio's rates).
return {
  name = "redis_ttl",
  interval = "2s",
  params = {
    memory_high = 24 * 1024 * 1024,
    memory_low = 12 * 1024 * 1024,
    target_hit_ratio = 0.9,
    shrink_factor = 0.5,
    grow_factor = 1.5,
    settle = 30,
    window = "10s",
    knob = "cache_ttl",
    expire_knob = "cache_key_ttl",
  },
  inputs = {
    { metric = "redis_keyspace_hits_total", window = "30s" },
    { metric = "redis_keyspace_misses_total", window = "30s" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    local memory = ctx.value("redis_memory_used_bytes")
    local hits = ctx.rate("redis_keyspace_hits_total", nil, p.window)
    local misses = ctx.rate("redis_keyspace_misses_total", nil, p.window)
    if not (knob and memory and hits and misses) then
      return -- no data yet
    end
    local lookups = hits + misses
    local ratio = lookups > 0 and hits / lookups or 1
    local mib = memory / 1048576
    if memory > p.memory_high then
      local want = math.max(knob.min, math.floor(knob.value * p.shrink_factor))
      if want >= knob.value or ctx.now < (ctx.state.settled_at or 0) then return end
      ctx.state.settled_at = ctx.now + math.min(want + 2 * ctx.interval, p.settle)
      local why = string.format("shorten: memory %.1f MiB > %.1f MiB (hit ratio %.2f)", mib, p.memory_high / 1048576,
                                ratio)
      ctx.propose(p.knob, want, why)
      if p.expire_knob ~= "" and ctx.knob(p.expire_knob) then
        ctx.propose(p.expire_knob, want, why)
      end
    elseif memory < p.memory_low and ratio < p.target_hit_ratio then
      local want = math.min(knob.max, math.ceil(knob.value * p.grow_factor))
      if want <= knob.value then return end
      ctx.propose(p.knob, want, string.format("lengthen: hit ratio %.2f < %.2f, memory %.1f MiB < %.1f MiB", ratio,
                                              p.target_hit_ratio, mib, p.memory_low / 1048576))
    end
  end,
}
