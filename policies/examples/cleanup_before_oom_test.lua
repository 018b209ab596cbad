-- SPDX-License-Identifier: Apache-2.0
-- Tests of cleanup_before_oom.lua. ctx.predict answers from the series given
-- here, through the same prediction service as `trimtab run`.
local GiB = 2 ^ 30

-- Resident memory every 30 s for `minutes`, from `start` GiB rising by
-- `per_hour` GiB an hour, with optional labels.
local function memory(start, per_hour, minutes, labels)
  local points = {}
  for t = 0, minutes * 60, 30 do points[#points + 1] = { t, (start + per_hour * t / 3600) * GiB } end
  return { metric = "process_resident_memory_bytes", labels = labels, points = points }
end

local cleanup = { cleanup = { value = 0, min = 0, max = 1 } }

return {
  {
    name = "a leak that reaches 2 GiB within the horizon: clean up",
    series = { memory(1, 0.5, 60) },
    knobs = cleanup,
    expect = { proposals = { cleanup = { value = 1, reason = "^memory reaches 2048 MiB in" } } },
  },
  {
    name = "already cleaning up: no proposal",
    series = { memory(1, 0.5, 60) },
    knobs = { cleanup = { value = 1, min = 0, max = 1 } },
    expect = { no_proposal = true },
  },
  {
    name = "flat memory: back to normal only after the calm period",
    series = { memory(1, 0, 120) },
    knobs = { cleanup = { value = 1, min = 0, max = 1 } },
    now = 3600,
    steps = {
      { expect = { no_proposal = true, state = { calm_since = 3600 } } },
      { advance = 1800, expect = { proposals = { cleanup = { value = 0, reason = "for 1800 s %(none%)" } } } },
    },
  },
  {
    name = "flat memory at normal: nothing to do",
    series = { memory(1, 0, 60) },
    knobs = cleanup,
    expect = { no_proposal = true, state_nil = "calm_since" },
  },
  {
    name = "the job label picks one process of several",
    params = { job = "api" },
    series = { memory(1, 0.5, 60, { job = "api" }), memory(1, 0, 60, { job = "worker" }) },
    knobs = cleanup,
    expect = { proposals = { cleanup = 1 } },
  },
  {
    name = "no memory series: says why",
    knobs = cleanup,
    expect = { no_proposal = true, log = "no prediction: missing" },
  },
  {
    name = "no knob: nothing",
    series = { memory(1, 0.5, 60) },
    expect = { no_proposal = true },
  },
}
