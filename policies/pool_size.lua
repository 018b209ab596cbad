-- SPDX-License-Identifier: Apache-2.0
-- pool_size: trimtab's connection-pool policy. Sizes a pool from queueing
-- theory, never grows it past the database's scalability knee, changes it
-- with hysteresis (grow at once, shrink after a quiet while) and closes idle
-- connections the load no longer needs.
--
-- Optimises: as few connections as keep queries from waiting (a query waits
-- longer than `target_wait` with probability under 1 - `wait_quantile`, even
-- after the arrivals rise by `headroom`), never more than the database can
-- use, without flapping.
--
-- Reads (every name is a param; defaults from docs/sim-models.md, the live
-- pgbouncer names are in examples/pgbouncer-pool.yaml):
--   active_metric        busy connections (gauge)                    required
--   waiting_metric       clients waiting for a connection (gauge)    required
--   arrivals_metric      queries through the pool (counter)          optional
--   service_time_metric  mean time a query holds a connection        optional
--   wait_metric          mean wait for a connection                  optional
--   open_metric          connections held open (for closing idle ones) optional
-- A missing read makes the governor veto the proposals after it, so an
-- optional metric found missing is not read again before the proposal (only
-- after it, to notice its return) and the policy works with what it has:
-- without arrivals or service time it sizes for busy + waiting (Little's
-- law from what is observed) plus the headroom, without the Erlang model.
--
-- How it decides, each tick:
-- 1. Offered load (Little's law): busy connections = arrivals/s x service
--    time, the arrivals measured over spans of `rate_window`. When they rose
--    by more than `surge` from one span to the next, the rise is carried
--    `lookahead` seconds ahead: a crowd is sized for while it arrives. This
--    needs a counter of offered queries (the simulator's db_queries_total);
--    one of served queries (pgbouncer's) rises as a queue drains when the
--    pool grows, which is no crowd: hence `lookahead = 0` by default, and
--    the simulator's scenarios set it.
-- 2. Erlang C: the smallest pool c with P(wait > target_wait) =
--    C(c, a) e^(-(c - a) target_wait / s) <= 1 - wait_quantile, for the
--    load a the arrivals x (1 + headroom) would bring. A mean wait above
--    `target_wait` with clients waiting adds the queue to the current size:
--    what is seen corrects the model.
-- 3. Contention guard (Universal Scalability Law): every (busy, service
--    time) point is kept, averaged per bin, and fitted with
--    s(N) = p0 + p1 N + p2 N^2. Throughput N / s(N) peaks at N* = sqrt(p0/p2):
--    past it one more connection raises every query's time more than it adds
--    throughput, so the pool never grows past N*. The same curve turns
--    arrivals into busy connections (N = arrivals x s(N): a 10 % rise of the
--    load raises the busy count by more than 10 % near the knee; no solution
--    means overload, sized at the knee). Points count when the service time
--    agrees with Little's law (arrivals x service time <= busy + waiting;
--    a larger one is replaced by that bound for sizing); the fit needs
--    `min_bins` bins spanning a factor of 2 and must explain 90 % of their
--    variance; the knee is trusted within twice the busiest point seen.
-- 4. Hysteresis: grow when less than `grow_headroom` is left (0: half the
--    headroom; at most `headroom`), to the full headroom. Shrink to the
--    largest size wanted in the last `shrink_after` (to an eighth of it:
--    the wants are kept in 8 buckets), by `min_shrink` or more, and only once
--    `quiet_window` has passed since the last growth (set it to the flap
--    window: a shrink is then never a flap) and `shrink_every` since the
--    last shrink. With `hold_rising`, no shrink either while the arrivals
--    of the last `shrink_after` average more than those of the one before
--    (a morning ramp: a shrink on a dip of its noise is grown back soon,
--    or too late when the data comes slowly).
--    Crowds: when the pool holds fewer connections open than the shrink
--    would leave (it opens them on demand and step 5 closes idle ones), a
--    lower cap saves nothing; the cap then stays at the largest size wanted
--    in the last `peak_memory`, so a crowd that comes back finds its
--    connections allowed at once instead of growing into them by
--    `max_step`s. Needs the open count (step 5); `peak_memory = 0` turns
--    it off.
-- 5. Idle connections: a pool keeps what it opened until its idle timeout.
--    When `min_close` or more connections are open beyond what the load
--    wants, the trigger `close_idle_knob` closes them at once (at most every
--    `close_every`; a close that freed nothing, as under a minimum idle
--    count or while the load comes back, backs off for twice as long as the
--    one before: 2, 4, 8 x `close_every`, up to `close_backoff`).
--    `close_idle_knob = ""` or an ungoverned knob turns this off.
--
-- Tuning: `target_wait` and `wait_quantile` from the latency SLO (default:
-- half of a 500 ms p95); `headroom` for how far the arrivals move between
-- two decisions (scrape interval + cooldown); `grow_headroom` the least
-- margin ever left (a narrower band between it and `headroom` holds fewer
-- connections for more changes); `shrink_after` several times the load's
-- noise correlation time; `quiet_window` at least the flap window;
-- `shrink_every` and `hold_rising` against shrinks that are grown back
-- within the flap window; `peak_memory` the period of the crowds to be
-- ready for (a day covers a daily peak).
local function erlangSize(a, s, target_wait, eps, max_c)
  -- Smallest c > a with C(c, a) e^(-(c - a) t / s) <= eps (Erlang B by recursion).
  if a <= 0 then return 1 end
  if a >= max_c then return max_c end
  local tau = s and target_wait / s or 0
  local b = 1.0
  for c = 1, max_c do
    b = a * b / (c + a * b)
    if c > a and c * b / (c - a * (1 - b)) * math.exp(-(c - a) * tau) <= eps then return c end
  end
  return max_c
end

-- Bins of busy connections: one per connection up to 32, then 16 per doubling.
local function binOf(n)
  if n < 32 then return math.floor(n) end
  return 32 + math.floor(16 * math.log(n / 32, 2))
end

local function det(a, b, c, d, e, f, g, h, i)
  return a * (e * i - f * h) - b * (d * i - f * g) + c * (d * h - e * g)
end

-- The bins' keys in a fixed order. pairs() follows the strings' hashes,
-- which Lua seeds per process: sums taken in its order differ in the last
-- bits from run to run, and so would a knee on the edge of an integer.
local function binOrder(st)
  if not st.bin_order then
    local keys = {}
    for key in pairs(st.bins) do keys[#keys + 1] = key end
    table.sort(keys)
    st.bin_order = keys
  end
  return st.bin_order
end

-- Least squares of s = p0 + p1 N + p2 N^2 over the bins' averages (one
-- weight per bin, so a busy hour does not drown the rest): {p0, p1, p2,
-- knee, busiest}, or nil when the data cannot tell a knee.
local function fitUsl(bins, order, min_bins)
  local n, lo, hi = 0, math.huge, 0
  local S, T = { 0, 0, 0, 0, 0 }, { 0, 0, 0 }
  for _, key in ipairs(order) do
    local b = bins[key]
    local x, y, pw = b[1], b[2], 1
    n, lo, hi = n + 1, math.min(lo, x), math.max(hi, x)
    for k = 1, 5 do
      S[k] = S[k] + pw
      if k <= 3 then T[k] = T[k] + pw * y end
      pw = pw * x
    end
  end
  if n < min_bins or hi < 2 * lo then return nil end
  local D = det(S[1], S[2], S[3], S[2], S[3], S[4], S[3], S[4], S[5])
  if math.abs(D) < 1e-12 then return nil end
  local p0 = det(T[1], S[2], S[3], T[2], S[3], S[4], T[3], S[4], S[5]) / D
  local p1 = det(S[1], T[1], S[3], S[2], T[2], S[4], S[3], T[3], S[5]) / D
  local p2 = det(S[1], S[2], T[1], S[2], S[3], T[2], S[3], S[4], T[3]) / D
  if not (p0 > 0 and p2 > 0) then return nil end
  -- A knee only from points the curve explains (R^2 >= 0.9): noisy live
  -- service times must not cap a pool.
  local mean, ss, se = T[1] / n, 0, 0
  for _, key in ipairs(order) do
    local x, y = bins[key][1], bins[key][2]
    ss = ss + (y - mean) ^ 2
    se = se + (y - p0 - p1 * x - p2 * x * x) ^ 2
  end
  if ss <= 0 or se > 0.1 * ss then return nil end
  return { p0, p1, p2, math.sqrt(p0 / p2), hi }
end

-- Busy connections N that arrivals lambda bring: the smaller root of
-- N = lambda (p0 + p1 N + p2 N^2); nil when there is none (overload). Both
-- roots are negative when lambda p1 > 1 (the linear term alone outgrows N):
-- overload too, not a pool of one.
local function busyFor(lambda, fit)
  local A, B, C = lambda * fit[3], lambda * fit[2] - 1, lambda * fit[1]
  local disc = B * B - 4 * A * C
  if disc < 0 or B >= 0 then return nil end
  return (-B - math.sqrt(disc)) / (2 * A)
end

-- The largest value of the last `span` seconds, kept as buckets of a
-- `parts`th of it (a handful of entries in the state): the buckets to keep,
-- `value` added, and their largest value. A bucket leaves by its start, so
-- a value is kept between span - span/parts and span seconds.
local function windowMax(buckets, now, span, parts, value)
  local kept, top = {}, value
  for _, b in ipairs(buckets or {}) do
    if now - b[1] < span then kept[#kept + 1] = b; top = math.max(top, b[2]) end
  end
  if #kept > 0 and now - kept[#kept][1] < span / parts then
    kept[#kept][2] = math.max(kept[#kept][2], value)
  else
    kept[#kept + 1] = { now, value }
  end
  return kept, top
end

local function finite(v, low)
  if v and v == v and v > low and v < math.huge then return v end
  return nil
end

local OPTIONAL = { "arrivals_metric", "service_time_metric", "wait_metric" }

return {
  name = "pool_size",
  description = "pool size from Erlang C on arrivals x service time, capped at the USL knee, with hysteresis",
  interval = "5s",
  params = {
    knob = "db_pool_size",
    active_metric = "db_pool_connections_active",
    waiting_metric = "db_pool_clients_waiting",
    arrivals_metric = "db_queries_total",
    service_time_metric = "db_query_service_seconds",
    wait_metric = "db_pool_wait_seconds_mean",
    open_metric = "db_pool_connections_open",
    close_idle_knob = "db_pool_close_idle",
    match = {},
    target_wait = 0.25,
    wait_quantile = 0.95,
    headroom = 0.1,
    grow_headroom = 0,
    rate_window = 10,
    surge = 0.1,
    lookahead = 0,
    min_bins = 5,
    shrink_after = 300,
    quiet_window = 600,
    min_shrink = 2,
    shrink_every = 0,
    hold_rising = false,
    peak_memory = 86400,
    min_close = 5,
    close_every = 60,
    close_backoff = 1800,
  },
  -- Names the policy works without (the sim and `trimtab test` do not list
  -- them as missing): step 1's model inputs, step 5's idle closing.
  optional = { "arrivals_metric", "service_time_metric", "wait_metric", "open_metric", "close_idle_knob" },
  tick = function(ctx)
    local p, st = ctx.params, ctx.state
    if p.grow_headroom > p.headroom then
      -- It would grow to less than it grows at: a shrink without hysteresis.
      error(string.format("params.grow_headroom: must be at most headroom (%s), got %s", tostring(p.headroom),
                          tostring(p.grow_headroom)))
    end
    local knob = ctx.knob(p.knob)
    if not knob then return end
    local active = finite(ctx.value(p.active_metric, p.match), -1)
    local waiting = finite(ctx.value(p.waiting_metric, p.match), -1)
    if not (active and waiting) then return end
    st.has = st.has or {}
    local has = st.has

    -- Arrivals per second over successive spans of at least `rate_window`
    -- of the counter's samples (one scrape in the simulator; several live,
    -- where samples come every second or so; a reset starts again).
    local function arrivals()
      local list = ctx.series(p.arrivals_metric, p.match)
      local sum, t = 0, nil
      for _, x in ipairs(list) do
        -- A NaN sample would poison the sum for good: it is left out.
        if x.value and x.value == x.value then sum, t = sum + x.value, math.max(t or x.time, x.time) end
      end
      if not t then return nil, #list > 0 end
      local prev = st.arr
      if not prev or sum < prev[1] then
        st.arr = { sum, t }
      elseif t - prev[2] >= 0.9 * p.rate_window then
        st.lam_prev, st.lam = st.lam, { (sum - prev[1]) / (t - prev[2]), t }
        st.arr = { sum, t }
      end
      return st.lam and st.lam[1], true
    end
    local function read(which)
      if which == "arrivals_metric" then return arrivals() end
      local v = ctx.value(p[which], p.match)
      return v, v ~= nil
    end
    local got, missed = {}, false
    for _, which in ipairs(OPTIONAL) do
      if has[which] ~= false then
        local v, exists = read(which)
        got[which] = v
        if not exists then has[which], missed = false, true end
      end
    end
    -- A metric found missing now is on record: propose nothing this tick.
    if missed then return end
    local lambda = finite(got.arrivals_metric, -1)
    local measured = lambda
    local s = finite(got.service_time_metric, 0)
    local s_seen = s
    local wait = finite(got.wait_metric, -1)
    -- Little's law bounds the time a query holds a connection: arrivals x
    -- service time <= busy + waiting. A service time above that (an average
    -- over a longer period, or one that counts the wait) is replaced by it.
    if lambda and s and lambda * s > active + waiting then
      s = (active + waiting) / lambda
      s = s > 0 and s or nil
    end

    -- 3 (data). The (busy, service time) point, for the contention guard.
    st.bins = st.bins or {}
    if s_seen and s == s_seen and active > 0.5 then
      local key = tostring(binOf(active))
      local b = st.bins[key]
      if b then b[1], b[2] = 0.9 * b[1] + 0.1 * active, 0.9 * b[2] + 0.1 * s
      else st.bins[key], st.bin_order = { active, s }, nil end
    end
    local fit = fitUsl(st.bins, binOrder(st), p.min_bins)
    local knee = fit and fit[4] <= 2 * fit[5] and math.floor(fit[4]) or nil

    -- 1. Offered load, in busy connections, for the arrivals x (1 + x).
    local why
    if lambda and s then
      local prev = st.lam_prev
      if p.lookahead > 0 and prev and lambda > prev[1] * (1 + p.surge) then
        lambda = lambda + (lambda - prev[1]) / (st.lam[2] - prev[2]) * p.lookahead
      end
      why = string.format("%.1f queries/s x %.0f ms", lambda, s * 1000)
    else
      why = string.format("%.1f busy + %.1f waiting", active, waiting)
    end
    local function load(x)
      if not (lambda and s) then return (active + waiting) * (1 + x), s end
      if not fit then return lambda * (1 + x) * s, s end
      local n = busyFor(lambda * (1 + x), fit) or fit[4]
      return n, fit[1] + fit[2] * n + fit[3] * n * n
    end
    -- 2. Erlang C with the full headroom (`want`) and half of it (`grow_at`),
    -- then the queue that is seen.
    local eps, cap = 1 - p.wait_quantile, math.min(knob.max, 100000)
    local function size(x)
      local n, sn = load(x)
      if not (lambda and s) then return math.min(cap, math.ceil(n)) end  -- busy + waiting, no model
      return erlangSize(n, sn, p.target_wait, eps, cap)
    end
    local want, grow_at = size(p.headroom), size(p.grow_headroom > 0 and p.grow_headroom or p.headroom / 2)
    local mean_wait = wait or (lambda and lambda > 0 and waiting / lambda) or nil
    if waiting >= 1 and (mean_wait == nil or mean_wait > p.target_wait) and knob.value + waiting > want then
      want = knob.value + math.ceil(waiting)
      grow_at, why = want, string.format("%.1f waiting at %d", waiting, knob.value)
    end
    -- 3. Contention guard.
    if knee and want > knee then why = why .. string.format(", USL knee at %d", knee) end
    local function bound(c) return math.max(knob.min, math.min(knob.max, knee or math.huge, c)) end
    want, grow_at = bound(want), bound(grow_at)

    -- 4. Hysteresis. The largest want of the last `shrink_after`.
    local top
    st.win, top = windowMax(st.win, ctx.now, p.shrink_after, 8, want)
    st.since = st.since or ctx.now
    local rising = false
    if p.hold_rising and measured then
      -- Arrivals summed per bucket of a quarter of `shrink_after`, over two
      -- of them: the last `shrink_after` against the one before.
      local buckets = {}
      for _, b in ipairs(st.arr_win or {}) do
        if ctx.now - b[1] < 2 * p.shrink_after then buckets[#buckets + 1] = b end
      end
      if #buckets > 0 and ctx.now - buckets[#buckets][1] < p.shrink_after / 4 then
        local b = buckets[#buckets]
        b[2], b[3] = b[2] + measured, b[3] + 1
      else
        buckets[#buckets + 1] = { ctx.now, measured, 1 }
      end
      st.arr_win = buckets
      local sum, n = { 0, 0 }, { 0, 0 }
      for _, b in ipairs(buckets) do
        local k = ctx.now - b[1] < p.shrink_after and 1 or 2
        sum[k], n[k] = sum[k] + b[2], n[k] + b[3]
      end
      rising = n[1] > 0 and n[2] > 0 and sum[1] / n[1] > sum[2] / n[2]
    end
    -- Crowds: the largest size wanted in the last `peak_memory` is the
    -- floor of a shrink while the open count (last tick's, read in step 5)
    -- is below what the shrink would leave.
    local floor = 0
    if p.peak_memory > 0 then
      local peak
      st.peaks, peak = windowMax(st.peaks, ctx.now, p.peak_memory, 24, want)
      if st.open and st.open + p.min_shrink <= top then floor = peak end
    end
    local proposal
    if grow_at > knob.value then
      proposal, st.grew_at = want, ctx.now
    elseif knob.value - math.max(top, floor) >= p.min_shrink and ctx.now - st.since >= p.shrink_after
        and ctx.now - (st.grew_at or -math.huge) > p.quiet_window
        and ctx.now - (st.shrank_at or -math.huge) >= p.shrink_every and not rising then
      proposal = math.max(top, floor)
      why = floor > top
        and string.format("kept at %d, the largest wanted in %.0f s: the pool opens on demand", floor, p.peak_memory)
        or string.format("at most %d wanted in %.0f s", top, p.shrink_after)
      st.shrank_at = ctx.now
    end
    if proposal then
      ctx.propose(p.knob, proposal, string.format("load %.1f connections (%s)", load(0), why))
    end

    -- 5. Idle connections (read after the size proposal: a set-up without
    -- the open count still gets its sizes).
    local closer = p.close_idle_knob ~= "" and ctx.knob(p.close_idle_knob)
    local open = closer and ctx.value(p.open_metric, p.match)
    st.open = open
    if open then
      local last = st.close
      if last and not last.checked and ctx.now - last.t >= p.close_every / 2 then
        last.checked = true
        if open > last.open - p.min_close then
          -- Fruitless: a minimum idle count, or the load came back. Back off
          -- for twice as long as the time before, up to `close_backoff`.
          st.close_fails = (st.close_fails or 0) + 1
          st.close_after = ctx.now + math.min(p.close_backoff, math.max(p.close_every, 1) * 2 ^ st.close_fails)
        else
          st.close_fails = nil
        end
      end
      if open - want >= p.min_close and ctx.now >= (st.close_after or -math.huge)
          and ctx.now - (last and last.t or -math.huge) >= p.close_every then
        ctx.propose(p.close_idle_knob, closer.value + 1,
                    string.format("%.0f connections open, %d wanted", open, want))
        st.close = { t = ctx.now, open = open }
      end
    end

    -- Probe the optional metrics last seen missing, after every proposal.
    for _, which in ipairs(OPTIONAL) do
      if has[which] == false and got[which] == nil then
        local _, exists = read(which)
        if exists then has[which] = nil end
      end
    end
  end,
}
