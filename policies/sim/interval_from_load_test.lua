-- SPDX-License-Identifier: Apache-2.0
-- Tests of interval_from_load.lua (the simulator's policy; run: trimtab test policies/sim).

-- Requests at `rps` per second over the last two minutes (capacity: 1000/s).
local function requests(rps)
  local points = {}
  for t = 0, 120, 10 do points[#points + 1] = { t, rps * t } end
  return { { metric = "app_requests_total", points = points } }
end

local function at(interval)
  return { scrape_interval_seconds = { value = interval, min = 0.1, max = 86400, integer = false } }
end

return {
  {
    name = "busy: 5 s",
    series = requests(900),
    knobs = at(10),
    expect = { proposals = { scrape_interval_seconds = { value = 5, reason = "load 0.90 of 1000" } } },
  },
  {
    name = "clearly idle: 15 s",
    series = requests(100),
    knobs = at(10),
    expect = { proposals = { scrape_interval_seconds = 15 } },
  },
  {
    name = "idle but within the hysteresis: stays at 10 s",
    series = requests(250),
    knobs = at(10),
    expect = { no_proposal = true },
  },
  {
    name = "load back to normal: 10 s",
    series = requests(500),
    knobs = at(5),
    expect = { proposals = { scrape_interval_seconds = 10 } },
  },
  {
    name = "just under busy: stays fast",
    series = requests(700),
    knobs = at(5),
    expect = { no_proposal = true },
  },
  {
    name = "no request counter: no proposal",
    knobs = at(10),
    expect = { no_proposal = true },
  },
}
