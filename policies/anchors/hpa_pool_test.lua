-- SPDX-License-Identifier: Apache-2.0
-- Tests of hpa_pool.lua (Kubernetes HPA's ratio rule on a pool).
local function pool(size)
  return { db_pool_size = { value = size, min = 1, max = 200 } }
end

local function busy(n) return { db_pool_connections_active = n } end

return {
  {
    name = "scale up: ceil(current x utilisation / target)",
    knobs = pool(10),
    values = busy(9),
    -- 10 x 0.9 / 0.7 = 12.86
    expect = { proposals = { db_pool_size = { value = 13, reason = "utilisation 0%.90 against 0%.70: 10 %-> 13" } } },
  },
  {
    name = "within the 10 % tolerance: no change",
    knobs = pool(10),
    values = busy(7.6),
    expect = { no_proposal = true },
  },
  {
    name = "scale down waits for the highest recommendation of the last 300 s",
    now = 0,
    knobs = pool(20),
    steps = {
      { values = busy(14), expect = { no_proposal = true } },
      { advance = 15, values = busy(7), expect = { no_proposal = true } },
      { at = 285, values = busy(7), expect = { no_proposal = true } },
      { at = 300, values = busy(7), expect = { proposals = { db_pool_size = 10 } } },
    },
  },
  {
    name = "a scale down goes to the highest recommendation of the window, not the lowest",
    now = 0,
    knobs = pool(20),
    steps = {
      { values = busy(14), expect = { no_proposal = true } },
      { advance = 15, values = busy(11), expect = { no_proposal = true } },   -- 15.7: 16
      { at = 150, values = busy(7), expect = { no_proposal = true } },        -- 10
      { at = 300, values = busy(7), expect = { proposals = { db_pool_size = 16 } } },
      { at = 315, knobs = { db_pool_size = { value = 20 } }, values = busy(7),
        expect = { proposals = { db_pool_size = 10 } } },
    },
  },
  {
    name = "scale up is limited to +100 % or +4 per 15 s, whichever is larger",
    now = 0,
    knobs = pool(10),
    steps = {
      { values = busy(20), expect = { proposals = { db_pool_size = 20 } } },
      { advance = 5, values = busy(20), expect = { no_proposal = true } },
      { at = 15, values = busy(20), expect = { proposals = { db_pool_size = 29 } } },
    },
  },
  {
    name = "no busy count: no decision",
    knobs = pool(10),
    values = { db_pool_clients_waiting = 3 },
    expect = { no_proposal = true },
  },
  {
    name = "a knob that is not governed: no decision",
    params = { knob = "pgbouncer_pool_size" },
    knobs = pool(10),
    values = busy(9),
    expect = { no_proposal = true },
  },
  {
    name = "a pool at 0 (scaled to zero): the HPA does not scale",
    knobs = { db_pool_size = { value = 0, min = 0, max = 200 } },
    values = busy(5),
    expect = { no_proposal = true },
  },
}
