-- SPDX-License-Identifier: Apache-2.0
-- Anchor: Netflix concurrency-limits' Gradient2 limit driving a pool size.
--
-- Source: github.com/Netflix/concurrency-limits,
-- concurrency-limits-core/src/main/java/com/netflix/concurrency/limits/limit/Gradient2Limit.java
-- (the version with rttTolerance). For each sample (rtt, inflight):
--   shortRtt = rtt; longRtt = exponential average of rtt over `longWindow`
--     samples (factor 2/(n+1), plain mean over the first 10: ExpAvgMeasurement)
--   if longRtt / shortRtt > 2: longRtt = longRtt * 0.95
--   if inflight < limit / 2: no change (application-limited)
--   gradient = max(0.5, min(1.0, tolerance * longRtt / shortRtt))
--   newLimit = limit * gradient + queueSize
--   newLimit = limit * (1 - smoothing) + newLimit * smoothing
--   limit = max(minLimit, min(maxLimit, newLimit))
-- Builder defaults: smoothing 0.2, rttTolerance 1.5, longWindow 600,
-- queueSize 4 (a constant in Gradient2's builder; GradientLimit, the first
-- version, used max(4, sqrt(limit)): `queue_size_sqrt = true` selects that).
--
-- Reading chosen for a connection pool (the limit is the pool size, kept as
-- a real number in the state and applied as its integer part, as the
-- library returns (int)estimatedLimit): one sample per tick; rtt = mean
-- wait for a connection + mean service time of a query; inflight = busy
-- connections. minLimit and maxLimit are the knob's bounds (the library's
-- 20 and 200 are for request concurrency); `min_limit` / `max_limit`
-- override them when > 0.
return {
  name = "gradient2_pool",
  description = "anchor: Netflix concurrency-limits Gradient2 (long/short RTT gradient) on the pool size",
  interval = "5s",
  params = {
    knob = "db_pool_size",
    active_metric = "db_pool_connections_active",
    service_time_metric = "db_query_service_seconds",
    wait_metric = "db_pool_wait_seconds_mean",
    match = {},
    smoothing = 0.2,
    rtt_tolerance = 1.5,
    long_window = 600,
    warmup = 10,
    queue_size = 4,
    queue_size_sqrt = false,
    min_limit = 0,
    max_limit = 0,
  },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    local knob = ctx.knob(p.knob)
    if not knob then return end
    local inflight = ctx.value(p.active_metric, p.match)
    local service = ctx.value(p.service_time_metric, p.match)
    local wait = ctx.value(p.wait_metric, p.match)
    if not (inflight and service and wait) then return end
    local rtt = service + wait
    if not (rtt > 0) then return end
    -- The estimate is kept as a real number while the knob stays (the
    -- governor's cooldown holds it, or the integer part did not move). A
    -- knob that moved elsewhere restarts it from the size applied: a
    -- proposal the governor cut short (max step), or a change from outside.
    local limit = st.limit or knob.value
    if st.seen and knob.value ~= st.seen and math.floor(limit) ~= knob.value then limit = knob.value end
    st.seen = knob.value
    local queue = p.queue_size
    -- SquareRootFunction: max(baseline, (int) sqrt(limit)).
    if p.queue_size_sqrt then queue = math.max(queue, math.floor(math.sqrt(math.floor(limit)))) end
    -- ExpAvgMeasurement: a plain mean over the warm-up, then an EMA.
    st.n = (st.n or 0) + 1
    if st.n <= p.warmup then
      st.sum = (st.sum or 0) + rtt
      st.long = st.sum / st.n
    else
      local f = 2 / (p.long_window + 1)
      st.long = st.long * (1 - f) + rtt * f
    end
    -- The sample's gradient uses the average before the decay, as the library does.
    local long = st.long
    if long / rtt > 2 then st.long = long * 0.95 end
    st.limit = limit
    if inflight < limit / 2 then return end
    local gradient = math.max(0.5, math.min(1.0, p.rtt_tolerance * long / rtt))
    local new = limit * gradient + queue
    new = limit * (1 - p.smoothing) + new * p.smoothing
    local low = p.min_limit > 0 and p.min_limit or knob.min
    local high = p.max_limit > 0 and p.max_limit or knob.max
    new = math.max(low, math.min(high, new))
    st.limit = new
    if math.floor(new) ~= knob.value then
      ctx.propose(p.knob, math.floor(new), string.format("gradient %.2f (long rtt %.1f ms, rtt %.1f ms)",
                                                         gradient, long * 1000, rtt * 1000))
    end
  end,
}
