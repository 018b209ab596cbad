-- SPDX-License-Identifier: Apache-2.0
-- Anchor: the Prometheus alerting rule
--   predict_linear(process_resident_memory_bytes[1h], H) > limit   (for: 5m)
-- firing a cleanup, as a user would run it without trimtab.
--
-- Source: prometheus.io/docs/prometheus/latest/querying/functions/
-- ("predict_linear(v range-vector, t scalar) predicts the value of time
-- series t seconds from now, based on the range vector v, using simple
-- linear regression"; "should only be used with gauges") and
-- prometheus.io/docs/prometheus/latest/configuration/alerting_rules/ (`for`:
-- the condition must hold for that long, the alert is pending until then).
-- Computed as promql/functions.go does it: an ordinary least-squares line
-- through every sample of the range (now - `range`, now], time measured from
-- the evaluation time, so the intercept is the line's value now; the result
-- is intercept + slope * H. Fewer than two samples: no result (the rule does
-- not fire). The rule is evaluated every `evaluation_interval` (Prometheus'
-- default 1m); the samples are what was scraped, each once.
--
-- The action: when the alert turns firing, its notification (an
-- Alertmanager webhook) fires `cleanup_knob` (a trigger: current + 1; a
-- garbage collection by default); while it keeps firing the notification
-- repeats every `repeat_interval` (Alertmanager's default 4h) and fires the
-- cleanup again. When the condition stops holding the alert resolves; the
-- next firing starts over (pending, then firing).
--
-- Our choices, where the rule leaves them to the user: H = 4h (the usual
-- `4 * 3600`), limit = `threshold` (1.0) x process_memory_limit_bytes (or the
-- `limit` param in bytes when > 0), for: 5m.
--
-- One series: Prometheus evaluates the rule per series; this anchor drives
-- one process's cleanup, so `match` (labels, e.g. {instance = "app:9100"})
-- picks the series, and of the matching ones only a fresh one counts. When
-- the fresh series is another one than before (a restarted process with a
-- new pid label) its range starts empty, as a new series' does in
-- Prometheus; a series gone stale keeps its samples until they leave the
-- range. Several fresh matching series: no result, and a log line that
-- says to narrow `match`. A NaN sample is not kept (in PromQL a NaN makes
-- the comparison false: a NaN never fires the alert).
--
-- Cost: the policy ticks at the scrape interval (`interval`, 10 s) to keep
-- each new sample (by its timestamp, from ctx.series) in two flat lists in
-- ctx.state: range / scrape interval samples (360 for 1h at 10 s).

-- The labels of a series as one string, for noticing that the series changed.
local function identity(labels)
  local keys = {}
  for k in pairs(labels or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  for i, k in ipairs(keys) do keys[i] = k .. "=" .. tostring(labels[k]) end
  return table.concat(keys, ",")
end

local function regression(ts, vs, at)
  -- Least squares of v on (t - at): slope and the line's value at `at`.
  local n, sx, sy, sxy, sx2 = #ts, 0, 0, 0, 0
  local const = true
  for i = 1, n do
    local x, y = ts[i] - at, vs[i]
    sx, sy, sxy, sx2 = sx + x, sy + y, sxy + x * y, sx2 + x * x
    if y ~= vs[1] then const = false end
  end
  if const then return 0, vs[1] end
  local slope = (sxy - sx * sy / n) / (sx2 - sx * sx / n)
  return slope, sy / n - slope * sx / n
end

return {
  name = "predict_linear_cleanup",
  description = "anchor: Prometheus predict_linear(rss[1h], 4h) > limit for 5m fires a cleanup",
  interval = "10s",
  params = {
    memory_metric = "process_resident_memory_bytes",
    match = {},                -- labels that pick the one series (and its limit)
    limit_metric = "process_memory_limit_bytes",
    limit = 0,                 -- bytes; > 0 replaces limit_metric
    threshold = 1.0,           -- share of the limit the prediction is compared with
    range = 3600,              -- the range vector: [1h]
    predict = 14400,           -- H, seconds ahead: 4h
    hold = 300,                -- for: 5m (0: fire at the first true evaluation)
    evaluation_interval = 60,  -- Prometheus' rule evaluation interval
    repeat_interval = 14400,   -- Alertmanager's repeat_interval: re-fire while firing
    cleanup_knob = "gc_collect",
  },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    local knob = ctx.knob(p.cleanup_knob)
    if not knob then return end
    local list, latest, fresh = ctx.series(p.memory_metric, p.match) or {}, nil, 0
    for _, x in ipairs(list) do
      if not x.stale then latest, fresh = x, fresh + 1 end
    end
    -- None fresh: the series of before, gone stale, keeps its samples until
    -- they leave the range (so does a range vector).
    for _, x in ipairs(fresh == 0 and list or {}) do
      if identity(x.labels) == st.series then latest = x end
    end
    if fresh > 1 then
      if not st.ambiguous then
        ctx.log(string.format("%d fresh series match %s: set `match` to pick one", fresh, p.memory_metric))
      end
      st.ambiguous = true
      return
    end
    st.ambiguous = nil
    if not (latest and latest.value) then return end

    -- Keep each scraped sample once, drop what left the range. Another
    -- series than before starts its range empty.
    local id = identity(latest.labels)
    if st.series ~= id then
      -- A new series is a new alert in Prometheus: its own range, pending,
      -- firing and notification.
      st.series, st.ts, st.vs, st.pending_since, st.firing, st.notified = id, nil, nil, nil, nil, nil
    end
    local ts, vs = st.ts or {}, st.vs or {}
    if (#ts == 0 or latest.time > ts[#ts]) and not latest.stale and latest.value == latest.value then
      ts[#ts + 1], vs[#vs + 1] = latest.time, latest.value
    end
    local first = 1
    while first <= #ts and ts[first] <= ctx.now - p.range do first = first + 1 end
    if first > 1 then
      ts, vs = table.move(ts, first, #ts, 1, {}), table.move(vs, first, #vs, 1, {})
    end
    st.ts, st.vs = ts, vs

    if st.evaluated and ctx.now - st.evaluated < p.evaluation_interval then return end
    st.evaluated = ctx.now
    local limit = p.limit
    if limit <= 0 then limit = ctx.value(p.limit_metric, p.match) end
    if not limit or #ts < 2 then
      -- No result: the alert resolves, as for an empty vector in Prometheus.
      st.pending_since, st.firing, st.notified = nil, nil, nil
      return
    end

    local slope, now_value = regression(ts, vs, ctx.now)
    local predicted = now_value + slope * p.predict
    st.predicted = predicted
    if not (predicted > p.threshold * limit) then  -- NaN compares false, as in PromQL
      if st.firing then ctx.log(string.format("resolved: predicted %.0f MiB", predicted / 2^20)) end
      st.pending_since, st.firing, st.notified = nil, nil, nil
      return
    end
    st.pending_since = st.pending_since or ctx.now
    if ctx.now - st.pending_since < p.hold then return end
    st.firing = true
    if st.notified and ctx.now - st.notified < p.repeat_interval then return end
    st.notified = ctx.now
    ctx.propose(p.cleanup_knob, knob.value + 1,
                string.format("predict_linear(%s[%.0fs], %.0f) = %.0f MiB > %.0f MiB for %.0f s",
                              p.memory_metric, p.range, p.predict, predicted / 2^20,
                              p.threshold * limit / 2^20, ctx.now - st.pending_since))
  end,
}
