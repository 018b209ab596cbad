-- SPDX-License-Identifier: Apache-2.0
-- Tests of interval_from_pressure.lua (run: trimtab test policies/demo).
local knob = { scrape_interval = { value = 2, min = 0.1, max = 60, integer = false } }

return {
  {
    name = "clients waiting: sample fast",
    now = 100,
    values = { db_pool_clients_waiting = 3, app_request_latency_p95_seconds = 0.02 },
    knobs = knob,
    expect = { proposals = { scrape_interval = { value = 0.5, reason = "3.0 waiting" } }, state = { last_pressure = 100 } },
  },
  {
    name = "slow requests: sample fast",
    now = 100,
    values = { db_pool_clients_waiting = 0, app_request_latency_p95_seconds = 0.25 },
    knobs = knob,
    expect = { proposals = { scrape_interval = { value = 0.5, reason = "p95 250 ms" } } },
  },
  {
    name = "quiet since start-up: sample slowly",
    now = 100,
    values = { db_pool_clients_waiting = 0, app_request_latency_p95_seconds = 0.02 },
    knobs = knob,
    expect = { proposals = { scrape_interval = { value = 2, reason = "^quiet for 10s" } } },
  },
  {
    name = "slows down only after 10 quiet seconds",
    now = 100,
    series = {
      { metric = "db_pool_clients_waiting", points = { {100, 2}, {105, 0}, {110, 0} } },
      { metric = "app_request_latency_p95_seconds", points = { {100, 0.02}, {105, 0.02}, {110, 0.02} } },
    },
    knobs = knob,
    steps = {
      { expect = { proposals = { scrape_interval = 0.5 } } },
      { advance = 5, expect = { no_proposal = true } },
      { advance = 5, expect = { proposals = { scrape_interval = 2 } } },
    },
  },
  {
    name = "no latency reading: no proposal",
    values = { db_pool_clients_waiting = 3 },
    knobs = knob,
    expect = { no_proposal = true },
  },
}
