-- SPDX-License-Identifier: Apache-2.0
-- cleanup_before_oom: start a cleanup before a process runs out of memory,
-- instead of after the OOM killer did.
--
-- Asks ctx.predict.eta when process_resident_memory_bytes will reach `limit`.
-- When a crossing within `horizon` is at least `p` likely, it turns the
-- cleanup knob up to its max (e.g. an exec actuator that drops caches, forces
-- a full GC or schedules a rolling restart); once no crossing has been likely
-- for `calm` seconds, back down to its min. A garbage-collected heap whose
-- sawtooth returns to the same floor is not a leak: eta answers "none".
return {
  name = "cleanup_before_oom",
  interval = "30s",
  params = {
    knob = "cleanup",    -- a knob whose max means "clean up", min "normal"
    job = "",            -- the process's job label, when several expose the metric
    limit = 2147483648,  -- bytes; the config may say "2GiB"
    window = 3600,       -- seconds of history the prediction uses ("1h")
    horizon = 14400,     -- act on crossings this close ("4h")
    p = 0.5,             -- ...that are at least this likely
    calm = 1800,         -- seconds without a likely crossing before backing off
  },
  inputs = {
    { metric = "process_resident_memory_bytes", window = "1h" },
  },
  tick = function(ctx)
    local p = ctx.params
    local knob = ctx.knob(p.knob)
    if not (knob and ctx.predict) then return end
    local labels = p.job ~= "" and { job = p.job } or nil
    local eta, why, detail = ctx.predict.eta("process_resident_memory_bytes", labels, p.limit,
                                             { window = p.window, horizon = p.horizon })
    if not eta then
      ctx.log("no prediction: " .. (detail or why))
      return
    end

    local s = ctx.state
    local likely = (eta.status == "crossing" or eta.status == "already") and eta.probability >= p.p
    if likely then
      s.calm_since = nil
      if knob.value < knob.max then
        ctx.propose(p.knob, knob.max,
                    string.format("memory reaches %.0f MiB in %.0f min (%.0f to %.0f, p=%.2f, %s)",
                                  p.limit / 2^20, eta.seconds / 60, eta.low / 60, eta.high / 60,
                                  eta.probability, eta.model))
      end
    elseif knob.value > knob.min then
      s.calm_since = s.calm_since or ctx.now
      if ctx.now - s.calm_since >= p.calm then
        ctx.propose(p.knob, knob.min,
                    string.format("no likely crossing of %.0f MiB for %.0f s (%s)", p.limit / 2^20,
                                  ctx.now - s.calm_since, eta.status))
      end
    end
  end,
}
