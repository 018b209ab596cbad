-- SPDX-License-Identifier: Apache-2.0
-- Anchor: Netflix concurrency-limits' AIMD limit driving a pool size.
--
-- Source: github.com/Netflix/concurrency-limits,
-- concurrency-limits-core/src/main/java/com/netflix/concurrency/limits/limit/AIMDLimit.java
-- (the version with minLimit/maxLimit). Its update, for each sample
-- (rtt, inflight, didDrop):
--   if didDrop or rtt > timeout:  limit = (int)(limit * backoffRatio)
--   elseif inflight * 2 >= limit: limit = limit + 1
--   limit = min(maxLimit, max(minLimit, limit))
-- with the library's defaults backoffRatio 0.9 and timeout 5 s.
--
-- Reading chosen for a connection pool (the limit is the pool size):
-- - one sample per tick (as the library's WindowedLimit aggregates a window
--   of requests into one update); rtt = mean time of a query at the pool =
--   mean wait for a connection + mean service time; inflight = busy
--   connections; didDrop = some query timed out since the last tick (the pool
--   timeouts counter rose);
-- - minLimit and maxLimit are the knob's bounds (the library's 20 and 200
--   defaults are for request concurrency, not a pool): `min_limit` and
--   `max_limit` override them when > 0.
-- It optimises nothing explicitly: it probes upward while the pool is at
-- least half busy and backs off on loss, as TCP does.
return {
  name = "aimd_pool",
  description = "anchor: Netflix concurrency-limits AIMD (+1 when half busy, x0.9 on a drop) on the pool size",
  interval = "5s",
  params = {
    knob = "db_pool_size",
    active_metric = "db_pool_connections_active",
    service_time_metric = "db_query_service_seconds",
    wait_metric = "db_pool_wait_seconds_mean",
    timeouts_metric = "db_pool_timeouts_total",
    match = {},
    backoff_ratio = 0.9,
    timeout = 5,
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
    local timeouts = ctx.value(p.timeouts_metric, p.match)
    if not (inflight and service and wait and timeouts) then return end
    local dropped = st.timeouts ~= nil and timeouts > st.timeouts
    st.timeouts = timeouts
    local rtt = service + wait
    local limit, why = knob.value, nil
    if dropped or rtt > p.timeout then
      limit = math.floor(limit * p.backoff_ratio)
      why = dropped and "timeouts: backoff" or string.format("rtt %.2f s over %.2f s: backoff", rtt, p.timeout)
    elseif inflight * 2 >= limit then
      limit, why = limit + 1, string.format("%.1f in flight of %d: +1", inflight, knob.value)
    else
      return
    end
    local low = p.min_limit > 0 and p.min_limit or knob.min
    local high = p.max_limit > 0 and p.max_limit or knob.max
    limit = math.min(high, math.max(low, limit))
    if limit ~= knob.value then ctx.propose(p.knob, limit, why) end
  end,
}
