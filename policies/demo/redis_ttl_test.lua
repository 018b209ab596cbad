-- SPDX-License-Identifier: Apache-2.0
-- Tests of redis_ttl.lua.
local MiB = 1048576

-- Redis from t = 0 to `last` (10 s): `mib` MiB used, `hits` and `misses` per second.
local function redis(mib, hits, misses, last)
  local h, m, used = {}, {}, {}
  for t = 0, last or 10, 2 do
    used[#used + 1] = { t, mib * MiB }
    h[#h + 1] = { t, hits * t }
    m[#m + 1] = { t, misses * t }
  end
  return {
    { metric = "redis_memory_used_bytes", points = used },
    { metric = "redis_keyspace_hits_total", points = h },
    { metric = "redis_keyspace_misses_total", points = m },
  }
end

local function ttls(app, keys)
  return {
    cache_ttl = { value = app, min = 5, max = 600, baseline = 300 },
    cache_key_ttl = { value = keys or app, min = 5, max = 600, baseline = 300 },
  }
end

return {
  {
    name = "over the ceiling: halve the TTL of the app and of the keys",
    series = redis(30, 90, 10),
    knobs = ttls(300),
    expect = { proposals = {
      cache_ttl = { value = 150, reason = "^shorten: memory 30.0 MiB > 24.0 MiB %(hit ratio 0.90%)" },
      cache_key_ttl = 150,
    } },
  },
  {
    name = "after a cut: wait for memory to answer (the new TTL, at most settle) before the next",
    series = redis(30, 90, 10, 40),
    knobs = ttls(300),
    now = 10,
    steps = {
      { expect = { proposals = { cache_ttl = 150, cache_key_ttl = 150 }, state = { settled_at = 40 } } },
      { advance = 29, expect = { no_proposal = true } },
      { advance = 1, expect = { proposals = { cache_ttl = 75, cache_key_ttl = 75 } } },
    },
  },
  {
    name = "a short TTL: wait that TTL plus two ticks",
    series = redis(30, 90, 10),
    knobs = ttls(20),
    expect = { proposals = { cache_ttl = 10, cache_key_ttl = 10 }, state = { settled_at = 10 + 10 + 2 * 2 } },
  },
  {
    name = "no expire knob configured: the app's TTL only",
    params = { expire_knob = "" },
    series = redis(30, 90, 10),
    knobs = ttls(300),
    expect = { proposals = { cache_ttl = 150 } },
  },
  {
    name = "already at the minimum: nothing",
    series = redis(30, 90, 10),
    knobs = ttls(5),
    expect = { no_proposal = true },
  },
  {
    name = "room and a poor hit ratio: lengthen the app's TTL",
    series = redis(8, 50, 50),
    knobs = ttls(100, 20),
    expect = { proposals = { cache_ttl = { value = 150, reason = "^lengthen: hit ratio 0.50 < 0.90" } } },
  },
  {
    name = "lengthening stops at the max",
    series = redis(8, 50, 50),
    knobs = ttls(600),
    expect = { no_proposal = true },
  },
  {
    name = "no lookups at all count as a perfect ratio: no change",
    series = redis(8, 0, 0),
    knobs = ttls(100),
    expect = { no_proposal = true },
  },
  {
    name = "inside the band: no change",
    series = redis(16, 50, 50),
    knobs = ttls(100),
    expect = { no_proposal = true },
  },
  {
    name = "no data yet: no proposal",
    knobs = ttls(100),
    expect = { no_proposal = true },
  },
}
