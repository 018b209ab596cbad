-- SPDX-License-Identifier: Apache-2.0
-- Tests of cfn_cache_capacity.lua.
local GiB = 2 ^ 30
local capacity = { cache_capacity_entries = { value = 50, min = 0, max = 1e12 } }

return {
  {
    name = "16 GiB of memory: 1600 entries",
    values = { node_memory_MemTotal_bytes = 16 * GiB },
    knobs = capacity,
    expect = { proposals = { cache_capacity_entries = { value = 1600, reason = "16.0 GiB of memory" } } },
  },
  {
    name = "whole entries only",
    values = { node_memory_MemTotal_bytes = 15.57 * GiB },
    knobs = capacity,
    expect = { proposals = { cache_capacity_entries = 1557 } },
  },
  {
    name = "already that size: no proposal",
    values = { node_memory_MemTotal_bytes = 0.5 * GiB },
    knobs = capacity,
    expect = { no_proposal = true },
  },
  {
    name = "in the simulator: the process's memory limit",
    params = { memory_metric = "process_memory_limit_bytes", items_per_gib = 1000 },
    values = { process_memory_limit_bytes = 2 * GiB },
    knobs = capacity,
    expect = { proposals = { cache_capacity_entries = 2000 } },
  },
  {
    name = "no memory reading: no proposal",
    knobs = capacity,
    expect = { no_proposal = true },
  },
}
