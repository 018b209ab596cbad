-- SPDX-License-Identifier: Apache-2.0
-- interval_from_pressure: scrape faster while the service is under pressure.
--
-- Optimises: detection delay against scrape overhead. While clients wait for
-- connections or the p95 latency is above target, trimtab samples every
-- `fast` seconds so the pool policy reacts sooner; when it is quiet it backs
-- off to `slow`.
return {
  name = "interval_from_pressure",
  interval = "1s",
  params = {
    fast = 0.5,
    slow = 2,
    latency_target = 0.1,
    knob = "scrape_interval",
  },
  tick = function(ctx)
    local p = ctx.params
    local waiting = ctx.value("db_pool_clients_waiting")
    local p95 = ctx.value("app_request_latency_p95_seconds")
    if not (waiting and p95) then return end
    if waiting > 0.5 or p95 > p.latency_target then
      ctx.propose(p.knob, p.fast, string.format("pressure: %.1f waiting, p95 %.0f ms", waiting, p95 * 1000))
    else
      ctx.propose(p.knob, p.slow, string.format("quiet: p95 %.0f ms", p95 * 1000))
    end
  end,
}
