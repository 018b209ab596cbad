-- SPDX-License-Identifier: Apache-2.0
-- interval_from_pressure: scrape faster while the service is under pressure.
--
-- Optimises: detection delay against scrape overhead. While clients wait for
-- connections or the p95 latency is above target, trimtab samples every
-- `fast` seconds so the pool policy sees changes sooner; after `quiet_for`
-- seconds without pressure it backs off to `slow`. The quiet period is
-- hysteresis: one calm sample in a busy minute does not slow sampling down.
return {
  name = "interval_from_pressure",
  interval = "1s",
  params = {
    fast = 0.5,
    slow = 2,
    latency_target = 0.1,
    waiting_threshold = 0.5,
    quiet_for = 10,
    knob = "scrape_interval",
  },
  tick = function(ctx)
    local p = ctx.params
    local waiting = ctx.value("db_pool_clients_waiting")
    local p95 = ctx.value("app_request_latency_p95_seconds")
    if not (waiting and p95) then return end
    if waiting > p.waiting_threshold or p95 > p.latency_target then
      ctx.state.last_pressure = ctx.now
      ctx.propose(p.knob, p.fast, string.format("pressure: %.1f waiting, p95 %.0f ms", waiting, p95 * 1000))
    elseif ctx.now - (ctx.state.last_pressure or 0) >= p.quiet_for then
      ctx.propose(p.knob, p.slow, string.format("quiet for %ds: p95 %.0f ms", p.quiet_for, p95 * 1000))
    end
  end,
}
