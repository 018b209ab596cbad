-- SPDX-License-Identifier: Apache-2.0
-- optional_metrics (policy library; `require("optional_metrics")`): reads of
-- metrics a policy can work without, made so that a missing one costs no
-- proposal.
--
-- The governor vetoes every proposal of a tick made after a read found a
-- metric missing. So each optional metric is read at most once per tick
-- before the proposals: one found missing is on record (st.has[param] =
-- false) and not read again until probe() finds it back; after the tick's
-- proposals, probe() reads each one the tick did not read, which starts and
-- keeps a rate's history (the store keeps only what is read), finds a
-- metric missing before a proposal would read it, and finds it again when
-- it is back. Each change is logged once.
--
-- Use (each entry: the param that names the metric, "rate" (per second over
-- 5 minutes) or "value", and for a value the param with its labels):
--   local optional = require("optional_metrics").new({
--     { "gc_cpu_metric", "rate" },
--     { "idle_metric", "value", match = "idle_match" },
--   })
--   tick = function(ctx)
--     optional.begin(ctx.state)
--     local cpu, why = optional.get(ctx, ctx.params, ctx.state, "gc_cpu_metric")
--     -- why: nil (read), "off" (the param is ""), "missing" (now or at the last look)
--     if optional.missed then return end  -- a proposal now would be vetoed
--     ...
--     optional.probe(ctx, ctx.params, ctx.state)
--   end
local M = {}

function M.new(list)
  local kind, match = {}, {}
  for _, o in ipairs(list) do
    assert(o[2] == "rate" or o[2] == "value", "optional_metrics: " .. tostring(o[1]) .. " must be read as rate or value")
    kind[o[1]], match[o[1]] = o[2], o.match
  end
  local reads = { tried = {}, missed = false }

  local function read(ctx, p, which)
    if kind[which] == "rate" then return ctx.rate(p[which], nil, "5m") end
    return ctx.value(p[which], match[which] and p[match[which]] or nil)
  end

  local function gone(ctx, p, which)
    ctx.log(string.format("no %s (%s): what needs it is skipped until it is back", p[which], which))
  end

  -- Starts a tick: nothing read yet.
  function reads.begin(st)
    st.has = st.has or {}
    reads.tried, reads.missed = {}, false
  end

  -- Optional metric `which` (a param's name): its value; or nil and "off"
  -- (the param is ""), or nil and "missing" (missing now, or at the last look).
  function reads.get(ctx, p, st, which)
    if p[which] == "" then return nil, "off" end
    if st.has[which] == false then return nil, "missing" end
    reads.tried[which] = true
    local v = read(ctx, p, which)
    if v == nil then
      st.has[which], reads.missed = false, true
      gone(ctx, p, which)
      return nil, "missing"
    end
    return v
  end

  -- After the tick's proposals: each optional metric the tick did not read.
  function reads.probe(ctx, p, st)
    for _, o in ipairs(list) do
      local which = o[1]
      if p[which] ~= "" and not reads.tried[which] then
        local there = read(ctx, p, which) ~= nil
        if there and st.has[which] == false then
          ctx.log(string.format("%s (%s) is back", p[which], which))
        elseif not there and st.has[which] ~= false then
          gone(ctx, p, which)
        end
        st.has[which] = there
      end
    end
  end

  return reads
end

return M
