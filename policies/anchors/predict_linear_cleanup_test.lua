-- SPDX-License-Identifier: Apache-2.0
-- Tests of predict_linear_cleanup.lua: the regression, the `for` hold, the
-- repeat interval, resolution, and the samples kept. The policy collects the
-- samples itself, one per tick (10 s), so every case ticks from t = 0.
local GiB = 2 ^ 30

-- Resident memory f(t) sampled every 10 s over [0, t1], with the 1 GiB limit.
local function memory(t1, f)
  local used, limit = {}, {}
  for t = 0, t1, 10 do
    used[#used + 1] = { t, f(t) }
    limit[#limit + 1] = { t, GiB }
  end
  return {
    { metric = "process_resident_memory_bytes", points = used },
    { metric = "process_memory_limit_bytes", points = limit },
  }
end

-- Ticks at t = 0, 10, ..., 10 (n - 1); `expects[t]` for some of them, the
-- others `default` (nothing proposed unless given).
local function ticks(n, expects, default)
  local steps = {}
  for i = 1, n do
    local t = (i - 1) * 10
    steps[i] = { at = t, expect = expects[t] or default or { no_proposal = true } }
  end
  return steps
end

-- 0.5 GiB rising 0.05 GiB per hour: predict_linear(4h) at t is the line at
-- t + 4h, 0.5 + 0.05 (t + 14400) / 3600 GiB.
local function leak(t) return (0.5 + 0.05 * t / 3600) * GiB end

-- A case against a 0.5 GiB limit, fired at once (hold 0) on the line's
-- value now (predict 0): two quiet ticks at 0 and 10 s, then `later`.
local function alarm(name, series, later, extra)
  local params = { limit = 0.5 * GiB, hold = 0, predict = 0 }
  for k, v in pairs(extra or {}) do params[k] = v end
  local steps = { { expect = { no_proposal = true } }, { at = 10, expect = { no_proposal = true } } }
  for _, step in ipairs(later) do steps[#steps + 1] = step end
  return { name = name, series = series, params = params, knobs = { gc_collect = 0 }, now = 0, steps = steps }
end

return {
  {
    name = "the line crosses the threshold within H: pending, then fires after for: 5m",
    series = memory(400, leak),
    params = { threshold = 0.7 },  -- 0.7 GiB; predicted 0.7 GiB + at t = 0, more later
    knobs = { gc_collect = 0 },
    now = 0,
    steps = ticks(37, {
      [0] = { no_proposal = true, state_nil = "pending_since" },     -- one sample: no result
      [60] = { no_proposal = true, state = { pending_since = 60 } },  -- evaluated every 60 s
      [300] = { no_proposal = true },
      [360] = { proposals = { gc_collect = { value = 1, reason = "for 300 s" } },
                knobs = { gc_collect = 1 }, state = { firing = true } },
    }),
  },
  {
    name = "the prediction is the fitted line H ahead of the evaluation time",
    series = memory(600, leak),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = ticks(61, {
      -- under the 1 GiB limit: nothing fires
      [600] = { no_proposal = true, state = { predicted = (0.5 + 0.05 * 15000 / 3600) * GiB } },
    }),
  },
  {
    name = "a flat series predicts itself",
    series = memory(120, function() return 0.9 * GiB end),
    knobs = { gc_collect = 0 },
    now = 0,
    steps = ticks(13, { [120] = { no_proposal = true, state = { predicted = 0.9 * GiB } } }),
  },
  {
    name = "without hold the first true evaluation fires, then every repeat_interval",
    series = memory(200, leak),
    params = { threshold = 0.7, hold = 0, repeat_interval = 120 },
    knobs = { gc_collect = 0 },
    now = 0,
    steps = ticks(19, {
      [60] = { proposals = { gc_collect = 1 }, state = { firing = true, notified = 60 } },
      [180] = { proposals = { gc_collect = 2 } },
    }),
  },
  {
    name = "firing, then below: resolved and logged, the next firing starts over",
    series = {
      { metric = "process_resident_memory_bytes",
        points = { {0, 0.9 * GiB}, {10, 0.9 * GiB}, {60, 0.9 * GiB}, {70, 0.2 * GiB}, {4000, 0.2 * GiB},
                   {4010, 0.9 * GiB}, {4070, 0.9 * GiB} } },
    },
    params = { limit = 0.5 * GiB, hold = 0, predict = 0, range = 300 },
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },                        -- one sample: no result
      { at = 10, expect = { no_proposal = true } },               -- not evaluated before 60 s
      { at = 60, expect = { proposals = { gc_collect = 1 } } },   -- 0.9 > 0.5: fires
      { at = 70, expect = { no_proposal = true } },
      { at = 130, expect = { no_proposal = true, log = "resolved", state_nil = { "firing", "notified" } } },
      { at = 4010, expect = { no_proposal = true } },             -- the old samples left the range
      { at = 4070, expect = { proposals = { gc_collect = 2 } } },  -- two new samples over: fires again
    },
  },
  alarm("no result (every sample left the range) resolves: the next firing notifies at once", {
    { metric = "process_resident_memory_bytes",
      points = { {0, 0.9 * GiB}, {10, 0.9 * GiB}, {60, 0.9 * GiB}, {200, 0.9 * GiB}, {210, 0.9 * GiB},
                 {240, 0.9 * GiB} } },
  }, {
    { at = 60, expect = { proposals = { gc_collect = 1 }, state = { notified = 60 } } },
    { at = 120, expect = { no_proposal = true, state_nil = { "firing", "notified" } } },
    { at = 200, expect = { no_proposal = true } },
    { at = 210, expect = { no_proposal = true } },
    { at = 240, expect = { no_proposal = true } },  -- evaluated at 200, next at 260
    -- within repeat_interval (4 h) of the first notification, but a new firing
    { at = 260, expect = { proposals = { gc_collect = 2 } } },
  }, { range = 60 }),
  alarm("a NaN sample is not kept: it never fires the alert", {
    { metric = "process_resident_memory_bytes",
      points = { {0, 0.1 * GiB}, {10, 0.1 * GiB}, {20, 0 / 0}, {60, 0 / 0} } },
  }, {
    { at = 20, expect = { no_proposal = true, state = { ts = { 0, 10 } } } },
    { at = 60, expect = { no_proposal = true, state = { ts = { 0, 10 }, predicted = 0.1 * GiB } } },
  }),
  alarm("a new series (a restarted process) is a new alert; two fresh ones are ambiguous", {
    { metric = "process_resident_memory_bytes", labels = { pid = "1" },
      points = { {0, 0.9 * GiB}, {10, 0.9 * GiB}, {60, 0.9 * GiB} } },
    { metric = "process_resident_memory_bytes", labels = { pid = "2" },
      points = { {60, 0.9 * GiB}, {70, 0.9 * GiB}, {80, 0.9 * GiB}, {90, 0.9 * GiB}, {100, 0.9 * GiB},
                 {110, 0.9 * GiB}, {120, 0.9 * GiB} } },
  }, {
    { at = 60, expect = { no_proposal = true, log = "2 fresh series match", state = { ambiguous = true } } },
    { at = 70, expect = { no_proposal = true } },
    { at = 90, expect = { no_proposal = true, state = { series = "pid=2", ts = { 90 } } } },
    { at = 100, expect = { no_proposal = true } },
    { at = 120, expect = { no_proposal = true } },  -- evaluated at 90 (one sample), next at 150
    { at = 150, expect = { proposals = { gc_collect = 1 }, state = { series = "pid=2", notified = 150 } } },
  }),
  alarm("a series gone stale is still evaluated on the samples left in its range", {
    { metric = "process_resident_memory_bytes", points = { {0, 0.9 * GiB}, {10, 0.9 * GiB}, {60, 0.9 * GiB} } },
    { metric = "up", points = { {70, 1}, {80, 1}, {90, 1}, {100, 1}, {120, 1} } },
  }, {
    { at = 60, expect = { proposals = { gc_collect = 1 } } },
    { at = 120, expect = { no_proposal = true, state = { evaluated = 120, firing = true, ts = { 0, 10, 60 } } } },
  }),
  alarm("`match` picks one of several series", {
    { metric = "process_resident_memory_bytes", labels = { pid = "1" }, points = { {0, 0.9 * GiB}, {10, 0.9 * GiB} } },
    { metric = "process_resident_memory_bytes", labels = { pid = "2" }, points = { {0, 0.1 * GiB}, {10, 0.1 * GiB} } },
  }, {
    { at = 60, expect = { no_proposal = true, state = { series = "pid=2", predicted = 0.1 * GiB } } },
  }, { match = { pid = "2" } }),
  {
    name = "each sample is kept once, and only within the range",
    series = memory(100, leak),
    params = { range = 40 },
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { state = { ts = { 0 } } } },
      { advance = 5, expect = { state = { ts = { 0 } } } },  -- no new sample: not kept twice
      { at = 40, expect = { state = { ts = { 40 } } } },
      { at = 50, expect = { state = { ts = { 40, 50 } } } },
      { at = 100, expect = { state = { ts = { 100 } } } },  -- (60, 100]
    },
  },
  {
    name = "the limit from the params, and another cleanup knob",
    series = { { metric = "process_resident_memory_bytes", points = { {0, 100}, {10, 200} } } },
    params = { limit = 150, hold = 0, predict = 0, cleanup_knob = "cache_flush" },
    knobs = { cache_flush = 3 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { at = 10, expect = { no_proposal = true } },
      { at = 60, expect = { proposals = { cache_flush = 4 } } },  -- the line at 60: 700 > 150
    },
  },
  {
    name = "no limit: nothing",
    series = { { metric = "process_resident_memory_bytes", points = { {0, 100}, {10, 200} } } },
    knobs = { gc_collect = 0 },
    now = 0,
    steps = {
      { expect = { no_proposal = true } },
      { expect = { no_proposal = true, state_nil = "predicted" } },
    },
  },
  {
    name = "no memory series: nothing",
    knobs = { gc_collect = 0 },
    expect = { no_proposal = true, state_nil = "ts" },
  },
  {
    name = "no cleanup knob: nothing",
    series = memory(100, leak),
    knobs = { cache_flush = 0 },
    now = 100,
    expect = { no_proposal = true, state_nil = "ts" },
  },
}
