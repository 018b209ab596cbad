-- SPDX-License-Identifier: Apache-2.0
-- Tests of stratavore_metric_interval.lua (run: trimtab test policies/reference).
local knob = { scrape_interval_seconds = { value = 10, min = 0.1, max = 86400, integer = false } }

local function at(interval)
  return { scrape_interval_seconds = { value = interval, min = 0.1, max = 86400, integer = false } }
end

return {
  {
    name = "busy: above load 0.8 the interval drops to 5 s",
    values = { db_pool_utilization_ratio = 0.9 },
    knobs = knob,
    expect = { proposals = { scrape_interval_seconds = { value = 5, reason = "load 0.90 > 0.80" } } },
  },
  {
    name = "idle: under load 0.1 the interval grows to 15 s",
    values = { db_pool_utilization_ratio = 0.05 },
    knobs = knob,
    expect = { proposals = { scrape_interval_seconds = { value = 15, reason = "^idle" } } },
  },
  {
    name = "in between: back to 10 s",
    values = { db_pool_utilization_ratio = 0.5 },
    knobs = at(5),
    expect = { proposals = { scrape_interval_seconds = 10 } },
  },
  {
    name = "exactly 0.8 is not busy",
    values = { db_pool_utilization_ratio = 0.8 },
    knobs = at(15),
    expect = { proposals = { scrape_interval_seconds = 10 } },
  },
  {
    name = "already at the wanted interval: no proposal",
    values = { db_pool_utilization_ratio = 0.95 },
    knobs = at(5),
    expect = { no_proposal = true },
  },
  {
    name = "no load reading: no proposal",
    knobs = knob,
    expect = { no_proposal = true },
  },
  {
    name = "another load metric, scaled by the number of cores",
    params = { load_metric = "node_load1", load_scale = 4 },
    values = { node_load1 = 3.6 },
    knobs = knob,
    expect = { proposals = { scrape_interval_seconds = 5 } },
  },
  {
    name = "the interval follows the load over time",
    knobs = knob,
    series = {
      { metric = "db_pool_utilization_ratio", points = { {0, 0.9}, {10, 0.5}, {20, 0.02} } },
    },
    now = 0,
    steps = {
      { expect = { proposals = { scrape_interval_seconds = 5 }, knobs = { scrape_interval_seconds = 5 } } },
      { expect = { proposals = { scrape_interval_seconds = 10 }, knobs = { scrape_interval_seconds = 10 } } },
      { expect = { proposals = { scrape_interval_seconds = 15 }, knobs = { scrape_interval_seconds = 15 } } },
    },
  },
  {
    name = "a load_scale of 0 fails the tick, naming the param",
    params = { load_scale = 0 },
    knobs = knob,
    values = { db_pool_utilization_ratio = 0.5 },
    expect = { error = "params%.load_scale: must be above 0, got 0" },
  },
}
