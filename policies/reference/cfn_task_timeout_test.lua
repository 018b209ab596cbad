-- SPDX-License-Identifier: Apache-2.0
-- Tests of cfn_task_timeout.lua.
local function timeout(value)
  return { task_timeout_seconds = { value = value, min = 1, max = 86400, integer = false } }
end

return {
  {
    name = "low complexity: half the base",
    values = { task_complexity = 0 },
    knobs = timeout(300),
    expect = { proposals = { task_timeout_seconds = { value = 150, reason = "^low complexity" } } },
  },
  {
    name = "medium complexity: the base",
    values = { task_complexity = 1 },
    knobs = timeout(150),
    expect = { proposals = { task_timeout_seconds = { value = 300, reason = "^medium" } } },
  },
  {
    name = "high complexity: double the base",
    values = { task_complexity = 2 },
    knobs = timeout(300),
    expect = { proposals = { task_timeout_seconds = { value = 600, reason = "^high" } } },
  },
  {
    name = "values round to the nearest class",
    series = { { metric = "task_complexity", points = { {0, 1.4}, {30, 1.6}, {60, 7}, {90, -1} } } },
    knobs = timeout(150),
    now = 0,
    steps = {
      { expect = { proposals = { task_timeout_seconds = 300 } } },
      { expect = { proposals = { task_timeout_seconds = 600 } } },
      { expect = { no_proposal = true } },
      { expect = { proposals = { task_timeout_seconds = 150 } } },
    },
  },
  {
    name = "another base and factors from the params",
    params = { base = 100, low_factor = 0.25 },
    values = { task_complexity = 0 },
    knobs = timeout(300),
    expect = { proposals = { task_timeout_seconds = 25 } },
  },
  {
    name = "no complexity reading: no proposal",
    knobs = timeout(300),
    expect = { no_proposal = true },
  },
}
