-- SPDX-License-Identifier: Apache-2.0
-- Tests of pool_size.lua (trimtab's pool policy). Expected sizes are Erlang C
-- by hand: the smallest c with C(c, a) e^(-(c - a) 0.25 / s) <= 0.05, for a
-- = arrivals x service time x 1.1; without both, ceil((busy + waiting) x 1.1).
local function pool(size, extra)
  local knobs = { db_pool_size = { value = size, min = 1, max = 200 } }
  for k, v in pairs(extra or {}) do knobs[k] = v end
  return knobs
end

-- Every gauge the policy reads, at one tick.
local function gauges(active, waiting, service, wait, open)
  return {
    db_pool_connections_active = active,
    db_pool_clients_waiting = waiting,
    db_query_service_seconds = service,
    db_pool_wait_seconds_mean = wait,
    db_pool_connections_open = open,
  }
end

-- A queries counter with a point at each given time.
local function queries(points)
  return { metric = "db_queries_total", points = points }
end

-- USL service time, s0 10 ms, sigma 0.02, kappa 0.0005: knee at sqrt(0.98 / 0.0005) = 44.3.
local function usl(n) return 0.01 * (1 + 0.02 * (n - 1) + 0.0005 * n * (n - 1)) end

local function uslSteps()
  local steps, count, t = {}, 0, 0
  for i, n in ipairs({ 4, 8, 12, 16, 20, 40 }) do
    t = i * 5
    count = count + 500  -- 100 queries/s: the busy counts only feed the curve
    steps[#steps + 1] = { at = t, series = { queries({ { t, count } }) },
                          values = gauges(n, 0, usl(n), 0.001), expect = { no_proposal = true } }
  end
  -- A flood no pool can serve: sized at the knee, not at the knob's max.
  t = t + 5
  count = count + 100000
  steps[#steps + 1] = { at = t, series = { queries({ { t, count } }) }, values = gauges(40, 500, usl(40), 5),
                        expect = { proposals = { db_pool_size = { value = 44, reason = "USL knee at 44" } } } }
  return steps
end

-- A curve whose linear term dominates: s0 5 ms, p1 0.5 ms, p2 2e-6 s (knee
-- at sqrt(0.005 / 2e-6) = 50; fitted from the bins: 49). Past 2000 queries/s (lambda p1 > 1) the
-- quadratic's roots are both negative: overload, sized at the knee.
local function linearUsl(n) return 0.005 + 0.0005 * n + 0.000002 * n * n end

local function deepOverloadSteps()
  local steps, count, t = {}, 0, 0
  for i, n in ipairs({ 4, 8, 12, 16, 20, 40 }) do
    t = i * 5
    count = count + 500
    steps[#steps + 1] = { at = t, series = { queries({ { t, count } }) },
                          values = gauges(n, 0, linearUsl(n), 0.001), expect = { no_proposal = true } }
  end
  -- 3400 queries/s over the last 10 s (the rate's span), nobody waiting yet.
  t, count = t + 5, count + 33500
  steps[#steps + 1] = { at = t, series = { queries({ { t, count } }) }, values = gauges(40, 0, linearUsl(40), 0.001),
                        expect = { proposals = { db_pool_size = { value = 49, reason = "USL knee at 49" } } } }
  return steps
end

return {
  {
    name = "no arrivals, service time or wait: one tick to learn it, then busy + waiting + 10 %",
    now = 10,
    knobs = pool(5),
    steps = {
      { values = { db_pool_connections_active = 8, db_pool_clients_waiting = 0 },
        expect = { no_proposal = true,
                   state = { has = { arrivals_metric = false, service_time_metric = false, wait_metric = false } } } },
      { values = { db_pool_connections_active = 8, db_pool_clients_waiting = 0 },
        expect = { proposals = { db_pool_size = { value = 9, reason = "8%.0 busy %+ 0%.0 waiting" } } } },
    },
  },
  {
    name = "Erlang C on arrivals x service time, with 10 % headroom",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true, state = { arr = { 5000, 10 } } } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 23, reason = "1000%.0 queries/s x 20 ms" } },
                   state = { lam = { 1000, 20 } } } },
    },
  },
  {
    name = "clients waiting longer than the target: the queue is added to the pool",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(10, 30, 0.02, 0.5),
        expect = { proposals = { db_pool_size = { value = 40, reason = "30%.0 waiting at 10" } } } },
    },
  },
  {
    name = "a service time above Little's law (busy + waiting over arrivals) is replaced by it",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.06, 0.001), expect = { no_proposal = true } },
      -- 1000 queries/s x 60 ms would be 60 busy; 20 are: 20 ms
      { at = 20, values = gauges(20, 0, 0.06, 0.001),
        expect = { proposals = { db_pool_size = { value = 23, reason = "1000%.0 queries/s x 20 ms" } } } },
    },
  },
  {
    name = "a short wait does not count as a queue",
    now = 10,
    knobs = pool(30),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 3, 0.02, 0.003), expect = { no_proposal = true } },
    },
  },
  {
    name = "a surge of arrivals is carried 20 s ahead",
    params = { lookahead = 20 },
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 0 }, { 20, 1000 }, { 30, 11000 } }) },
    steps = {
      { values = gauges(1, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 30, values = gauges(20, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 62, reason = "2800%.0 queries/s" } } } },
    },
  },
  {
    name = "no lookahead by default: a counter of served queries rises as a queue drains",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 0 }, { 20, 1000 }, { 30, 11000 } }) },
    steps = {
      { values = gauges(1, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 30, values = gauges(20, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 23, reason = "1000%.0 queries/s" } } } },
    },
  },
  {
    name = "contention guard: the pool stops at the USL knee learnt from (busy, service time)",
    now = 5,
    knobs = pool(35),
    steps = uslSteps(),
  },
  {
    name = "deep overload (both roots negative) is sized at the knee, not at the minimum",
    now = 5,
    knobs = pool(35),
    steps = deepOverloadSteps(),
  },
  {
    name = "a NaN in the queries counter is left out of the arrivals",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }),
               { metric = "db_queries_total", labels = { shard = "b" }, points = { { 10, 0 / 0 }, { 20, 0 / 0 } } } },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true, state = { arr = { 5000, 10 } } } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 23, reason = "1000%.0 queries/s x 20 ms" } } } },
    },
  },
  {
    name = "grow_headroom above headroom is refused, naming both",
    params = { headroom = 0.05, grow_headroom = 0.1 },
    knobs = pool(10),
    values = gauges(8, 0, 0.02, 0.001),
    expect = { error = "params%.grow_headroom: must be at most headroom %(0%.05%), got 0%.1" },
  },
  {
    name = "shrinks to the largest want of the last 5 minutes, not before",
    now = 0,
    knobs = pool(40),
    series = { queries({ { 0, 0 }, { 60, 6000 }, { 120, 12000 }, { 180, 18000 }, { 240, 24000 }, { 300, 30000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 60, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 120, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 180, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 240, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 300, values = gauges(2, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 3, reason = "at most 3 wanted in 300 s" } } } },
    },
  },
  {
    name = "grow_headroom sets the margin that triggers a growth (default: half the headroom)",
    now = 10,
    knobs = pool(22),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      -- 1000 queries/s x 20 ms: 22 keeps the 5 % margin, not the 10 % one (23).
      { at = 20, values = gauges(20, 0, 0.02, 0.001), expect = { no_proposal = true } },
    },
  },
  {
    name = "a wider grow_headroom grows sooner, to the full headroom",
    params = { grow_headroom = 0.09 },
    now = 10,
    knobs = pool(22),
    series = { queries({ { 10, 5000 }, { 20, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001), expect = { proposals = { db_pool_size = 23 } } },
    },
  },
  {
    name = "shrink_every spaces the shrinks",
    params = { shrink_every = 150, shrink_after = 100, quiet_window = 0 },
    now = 0,
    knobs = pool(40),
    series = { queries({ { 0, 0 }, { 100, 10000 }, { 200, 12000 }, { 300, 14000 }, { 350, 15000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      -- 100 queries/s x 20 ms: 4 wanted.
      { at = 100, values = gauges(2, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = 3 }, state = { shrank_at = 100 } } },
      { at = 200, values = gauges(1, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 300, values = gauges(1, 0, 0.02, 0.001), expect = { proposals = { db_pool_size = 1 } } },
    },
  },
  {
    name = "hold_rising: no shrink while the arrivals rise, one once they fall",
    params = { hold_rising = true, shrink_after = 100, quiet_window = 0 },
    now = 0,
    knobs = pool(40),
    series = { queries({ { 0, 0 }, { 25, 2500 }, { 50, 5000 }, { 75, 7500 }, { 150, 22500 }, { 250, 32500 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 25, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 50, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 75, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      -- 200 queries/s after 100: 5 would do, but the load rises.
      { at = 150, values = gauges(4, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 160, values = gauges(4, 0, 0.02, 0.001), expect = { no_proposal = true } },
      -- 100 queries/s against 100 and 200 before: falling, the shrink comes.
      { at = 250, values = gauges(2, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 3, reason = "at most 3 wanted in 100 s" } } } },
    },
  },
  {
    name = "no shrink within the quiet window after a growth",
    now = 10,
    knobs = pool(10),
    series = { queries({ { 10, 5000 }, { 20, 15000 }, { 320, 45000 }, { 620, 75000 }, { 625, 75500 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001), expect = { proposals = { db_pool_size = 23 } } },
      { at = 320, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 620, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 625, values = gauges(2, 0, 0.02, 0.001), expect = { proposals = { db_pool_size = 3 } } },
    },
  },
  -- After a crowd (1000 queries/s, then 100): the pool below.
  {
    name = "a pool that opens connections on demand keeps the crowd's size as its cap",
    now = 10,
    knobs = pool(10, { db_pool_close_idle = 0 }),
    series = { queries({ { 10, 5000 }, { 20, 15000 }, { 320, 45000 }, { 620, 75000 }, { 625, 75500 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001, 22), expect = { proposals = { db_pool_size = 23 } } },
      { at = 320, values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 620, values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      -- 1 open + 2 (min_shrink) <= 3 wanted: a cap of 3 would close nothing.
      { at = 625, values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
    },
  },
  {
    name = "a shrink stops at the crowd's size, and says so",
    now = 10,
    knobs = pool(40, { db_pool_close_idle = 0 }),
    series = { queries({ { 10, 5000 }, { 20, 15000 }, { 320, 45000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001, 22), expect = { no_proposal = true } },
      -- The crowd is over; 1 connection open (seen at the tick before the shrink).
      { at = 300, values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 320, values = gauges(2, 0, 0.02, 0.001, 1),
        expect = { proposals = { db_pool_size = { value = 23, reason = "kept at 23, the largest wanted in 86400 s" } } } },
    },
  },
  {
    name = "a pool that holds its connections open is shrunk after a crowd",
    now = 10,
    knobs = pool(10, { db_pool_close_idle = 0 }),
    series = { queries({ { 10, 5000 }, { 20, 15000 }, { 320, 45000 }, { 620, 75000 }, { 625, 75500 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001, 7), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001, 23), expect = { proposals = { db_pool_size = 23 } } },
      -- A minimum idle count of 23: the close frees nothing and backs off.
      { at = 320, values = gauges(2, 0, 0.02, 0.001, 23), expect = { proposals = { db_pool_close_idle = 1 } } },
      { at = 620, values = gauges(2, 0, 0.02, 0.001, 23), expect = { no_proposal = true } },
      { at = 625, values = gauges(2, 0, 0.02, 0.001, 23),
        expect = { proposals = { db_pool_size = { value = 3, reason = "at most 3 wanted in 300 s" } } } },
    },
  },
  {
    name = "peak_memory = 0: the cap follows the load down after a crowd",
    now = 10,
    knobs = pool(10, { db_pool_close_idle = 0 }),
    params = { peak_memory = 0 },
    series = { queries({ { 10, 5000 }, { 20, 15000 }, { 320, 45000 }, { 620, 75000 }, { 625, 75500 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001, 22), expect = { proposals = { db_pool_size = 23 } } },
      { at = 320, values = gauges(2, 0, 0.02, 0.001, 1), expect = { no_proposal = true } },
      { at = 625, values = gauges(2, 0, 0.02, 0.001, 1), expect = { proposals = { db_pool_size = 3 } } },
    },
  },
  {
    name = "a small shrink is not worth a change",
    now = 0,
    knobs = pool(4),
    series = { queries({ { 0, 0 }, { 200, 20000 }, { 400, 40000 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 200, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
      { at = 400, values = gauges(2, 0, 0.02, 0.001), expect = { no_proposal = true } },
    },
  },
  {
    name = "idle connections beyond the want are closed; a close that frees nothing backs off, twice as long each time",
    now = 10,
    knobs = pool(10, { db_pool_close_idle = 0 }),
    steps = {
      { values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true } },
      { at = 15, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { proposals = { db_pool_close_idle = { value = 1, reason = "30 connections open, 3 wanted" } } } },
      -- Checked 30 s later: nothing freed, so no close for 2 x close_every.
      { at = 45, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true, state = { close_after = 165, close_fails = 1 } } },
      { at = 164, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true } },
      { at = 165, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { proposals = { db_pool_close_idle = 2 } } },
      -- Fruitless again: 4 x close_every (up to close_backoff).
      { at = 195, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true, state = { close_after = 435, close_fails = 2 } } },
    },
  },
  {
    name = "a close that freed connections may come again a minute later",
    now = 10,
    knobs = pool(10, { db_pool_close_idle = 0 }),
    steps = {
      { values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true } },
      { advance = 5, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { proposals = { db_pool_close_idle = 1 } } },
      { advance = 30, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 4 },
        expect = { no_proposal = true, state_nil = "close_after" } },
      { advance = 30, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 25 },
        expect = { proposals = { db_pool_close_idle = 2 } } },
    },
  },
  {
    name = "no close-idle knob governed: sizes only",
    now = 10,
    knobs = pool(10),
    steps = {
      { values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true } },
      { advance = 5, values = { db_pool_connections_active = 2, db_pool_clients_waiting = 0, db_pool_connections_open = 30 },
        expect = { no_proposal = true } },
    },
  },
  {
    name = "a metric that comes back is used again",
    now = 10,
    knobs = pool(5),
    series = { queries({ { 10, 5000 }, { 15, 10000 }, { 20, 15000 } }) },
    steps = {
      { values = { db_pool_connections_active = 8, db_pool_clients_waiting = 0, db_pool_wait_seconds_mean = 0.001 },
        expect = { no_proposal = true, state = { has = { service_time_metric = false } } } },
      { at = 15, values = gauges(8, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 9, reason = "busy" } } } },
      { at = 20, values = gauges(20, 0, 0.02, 0.001),
        expect = { proposals = { db_pool_size = { value = 23, reason = "1000%.0 queries/s x 20 ms" } } } },
    },
  },
  {
    name = "a counter reset keeps the last rate and starts again",
    now = 10,
    knobs = pool(40),
    series = { queries({ { 10, 10000 }, { 20, 20000 }, { 30, 5 } }) },
    steps = {
      { values = gauges(2, 0, 0.02, 0.001), expect = {} },
      { at = 20, values = gauges(2, 0, 0.02, 0.001), expect = { state = { lam = { 1000, 20 } } } },
      { at = 30, values = gauges(2, 0, 0.02, 0.001), expect = { state = { lam = { 1000, 20 }, arr = { 5, 30 } } } },
    },
  },
  {
    name = "no busy count: nothing to size from",
    knobs = pool(10),
    values = { db_pool_clients_waiting = 0 },
    expect = { no_proposal = true },
  },
  {
    name = "a knob that is not governed: no proposal",
    params = { knob = "pgbouncer_pool_size" },
    knobs = pool(10),
    values = gauges(8, 0, 0.02, 0.001),
    expect = { no_proposal = true },
  },
}
