-- SPDX-License-Identifier: Apache-2.0
-- Anchor: Kubernetes' Horizontal Pod Autoscaler rule applied to a pool size.
--
-- Source: kubernetes.io/docs/tasks/run-application/horizontal-pod-autoscale/
-- ("Algorithm details", "Stabilization window", "Default behavior"):
--   desired = ceil(current * currentMetric / targetMetric)
-- skipped while the ratio currentMetric / targetMetric is within the
-- tolerance of 1.0 (0.1, --horizontal-pod-autoscaler-tolerance). Scale-down
-- uses the highest recommendation of the last 300 s (the downscale
-- stabilization window); scale-up has no window but is rate-limited by the
-- default scaleUp policies: at most +100 % or +4, whichever is larger, per
-- 15 s. The controller syncs every 15 s.
--
-- Reading chosen for a connection pool: replicas = connections of the pool
-- (the knob), metric = pool utilisation = busy connections / pool size
-- (the "average utilisation" of the pool's members) with a target of 0.7
-- (`target_utilization`). min/max replicas are the knob's bounds.
return {
  name = "hpa_pool",
  description = "anchor: Kubernetes HPA ratio rule (10 % tolerance, 300 s scale-down stabilization) on the pool size",
  interval = "15s",
  params = {
    knob = "db_pool_size",
    active_metric = "db_pool_connections_active",
    match = {},
    target_utilization = 0.7,
    tolerance = 0.1,
    stabilization_window = 300,
    scale_up_percent = 100,
    scale_up_pods = 4,
    scale_up_period = 15,
  },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    local knob = ctx.knob(p.knob)
    if not knob then return end
    local active = ctx.value(p.active_metric, p.match)
    if not active then return end
    local current = knob.value
    -- Scaled to zero: the HPA does not scale (Kubernetes disables it at 0 replicas).
    if current <= 0 then return end
    local ratio = (active / current) / p.target_utilization
    local desired = current
    if math.abs(ratio - 1) > p.tolerance then desired = math.ceil(current * ratio) end
    desired = math.max(knob.min, math.min(knob.max, desired))
    -- Recommendations of the stabilization window, this one included.
    local recs, kept = st.recs or {}, {}
    for _, r in ipairs(recs) do
      if ctx.now - r[1] < p.stabilization_window then kept[#kept + 1] = r end
    end
    kept[#kept + 1] = { ctx.now, desired }
    st.recs = kept
    local target = desired
    if desired < current then
      for _, r in ipairs(kept) do target = math.max(target, r[2]) end
      target = math.min(target, current)
    elseif desired > current then
      -- Scale-up policies: the larger of +percent and +pods over the period,
      -- counted from the size at the period's start.
      local start = current
      for _, u in ipairs(st.ups or {}) do
        if ctx.now - u[1] < p.scale_up_period then start = math.min(start, u[2]) end
      end
      local limit = math.max(math.ceil(start * (1 + p.scale_up_percent / 100)), start + p.scale_up_pods)
      target = math.min(desired, math.max(current, limit))
    end
    -- Sizes seen in the last period (the knob as applied), for the rate limit.
    local ups = {}
    for _, u in ipairs(st.ups or {}) do
      if ctx.now - u[1] < p.scale_up_period then ups[#ups + 1] = u end
    end
    ups[#ups + 1] = { ctx.now, current }
    st.ups = ups
    if target ~= current then
      ctx.propose(p.knob, target, string.format("utilisation %.2f against %.2f: %d -> %d",
                                                active / current, p.target_utilization, current, target))
    end
  end,
}
