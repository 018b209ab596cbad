# SPDX-License-Identifier: Apache-2.0
"""The least stale reads any TTL policy can serve at a given hit ratio, in the
simulator's cache model (docs/sim-models.md, "Cache"), for bench/target_bounds.py.

An oracle that knows every key's lookup rate sets a TTL for each key and each
hour of the day, with unlimited memory and no warm-up after the hot set
moves (both favour it). Per key of lookup rate r, change rate nu and TTL T,
the model's non-resetting TTL entry gives:

    hit share      h(T) = r T / (1 + r T)
    stale share    s(T) = 1 - (1 - e^(-nu T)) / (nu T)   (of the hits)

Stale reads per second are r h s, hits r h. The least stale reads at a hit
ratio H come from one price mu of a hit in stale reads: each key's TTL
minimises r h (s - mu), and mu is bisected until the hits reach H. A
deterministic TTL is the best expiry for a key (its stale share is convex in
the entry's life), so no expiry rule of the model's knobs does better; only
invalidation or refresh-ahead would, and the model has neither.

The formulas are cache_math.cpp's (ttlHitProbability, staleHitFraction);
target_bounds.py checks them against the simulator at fixed TTLs.
"""
import math
import re

GOLDEN = (math.sqrt(5) - 1) / 2
DEFAULT_CHANGE_RATE = 1.0 / 86400  # sim/models/cache_model.h


def hit_share(x):
    """x = r T."""
    return x / (1.0 + x) if x > 0 else 0.0


def stale_share(nu, ttl):
    z = nu * ttl
    if z < 1e-6:
        return z / 2.0
    return 1.0 + math.expm1(-z) / z


def best_ttl(r, nu, mu, lo=1e-2, hi=1e9):
    """The TTL minimising r h (s - mu) for one key (0: not worth caching at this price)."""
    def cost(log_t):
        t = math.exp(log_t)
        return hit_share(r * t) * (stale_share(nu, t) - mu)
    a, b, n = math.log(lo), math.log(hi), 40
    grid = [a + (b - a) * i / n for i in range(n + 1)]
    costs = [cost(g) for g in grid]
    i = min(range(n + 1), key=costs.__getitem__)
    if costs[i] >= 0:
        return 0.0
    a, b = grid[max(0, i - 1)], grid[min(n, i + 1)]
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = cost(c), cost(d)
    for _ in range(30):
        if fc < fd:
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            fc = cost(c)
        else:
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            fd = cost(d)
    return math.exp((a + b) / 2)


def fixed_ttl(classes, loads, nu, ttl):
    """(hit ratio, stale reads per second) of one TTL for every key, unlimited memory."""
    hits = stale = 0.0
    for load in loads:
        for keys, p in classes:
            r = load * p
            h = hit_share(r * ttl)
            hits += keys * r * h
            stale += keys * r * h * stale_share(nu, ttl)
    return hits / sum(loads), stale / len(loads)


def least_stale(classes, loads, nu, target_hit):
    """The oracle: (hit ratio, stale reads per second) at the least stale reads with hit ratio >= target_hit.
    classes: [(keys, lookup probability per key)]; loads: lookups/s at equally spaced moments of a day."""
    total = sum(loads)

    def at(mu):
        hits = stale = 0.0
        for load in loads:
            for keys, p in classes:
                r = load * p
                t = best_ttl(r, nu, mu)
                h = hit_share(r * t)
                hits += keys * r * h
                stale += keys * r * h * stale_share(nu, t)
        return hits / total, stale / len(loads)

    lo, hi = 0.0, 1.0  # a price of 1 caches every key for ever: the highest hit ratio there is
    for _ in range(30):
        mid = (lo + hi) / 2
        if at(mid)[0] < target_hit:
            lo = mid
        else:
            hi = mid
    return at(hi)


def diurnal_loads(mean, amplitude, moments=12):
    """load.diurnal's mean (1 + amplitude cos(phase)) at equally spaced phases (noise left out)."""
    return [mean * (1 + amplitude * math.cos(2 * math.pi * i / moments)) for i in range(moments)]


def hotspot_classes(keys, hot_fraction, hot_access):
    hot = keys * hot_fraction
    return [(hot, hot_access / hot), (keys - hot, (1 - hot_access) / (keys - hot))]


def zipf_classes(keys, exponent, count=120):
    """Log-spaced rank classes of keys.zipf: (keys in the class, the class's mean probability per key)."""
    n = int(keys)
    edges = sorted({int(round(math.exp(math.log(n) * i / count))) for i in range(count + 1)} | {n})
    partial, total, wanted = {0: 0.0}, 0.0, set(edges)
    for rank in range(1, n + 1):
        total += rank ** -exponent
        if rank in wanted:
            partial[rank] = total
    edges = [0] + edges
    return [(b - a, (partial[b] - partial[a]) / total / (b - a)) for a, b in zip(edges, edges[1:]) if b > a]


def seconds(text):
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h|d)?\s*", str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * {"ms": 1e-3, None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


def read_scenario(path):
    """What the oracle needs from a scenario file: duration, the diurnal load, the keys, the change rate
    and the `perturb:` spreads. Raises ValueError naming what is missing."""
    with open(path) as f:
        lines = f.read().splitlines()
    models, perturb, duration, current, section = {}, {}, None, None, None
    for line in lines:
        text = line.split("#", 1)[0].rstrip()
        if not text.strip():
            continue
        if not text.startswith(" "):
            section = text.split(":", 1)[0]
            if section == "duration":
                duration = seconds(text.split(":", 1)[1])
            continue
        key, _, value = text.strip().lstrip("- ").partition(":")
        value = value.strip()
        if section == "models":
            if text.strip().startswith("- model:"):
                current = models.setdefault(value, {})
            elif current is not None:
                current[key] = value
        elif section == "perturb":
            perturb[key] = float(value)
    load = models.get("load.diurnal")
    keys = models.get("keys.hotspot") or models.get("keys.zipf")
    if duration is None or load is None or keys is None or "cache" not in models:
        raise ValueError(f"{path}: the oracle needs duration, load.diurnal, keys.hotspot or keys.zipf, and cache")
    out = {"duration": duration, "mean_rps": float(load["mean_rps"]),
           "amplitude": float(load.get("amplitude", 0)),
           "change_rate": float(models["cache"].get("change_rate", DEFAULT_CHANGE_RATE)),
           "keys": float(keys["keys"]), "perturb": perturb}
    if "keys.hotspot" in models:
        out["classes"] = lambda: hotspot_classes(out["keys"], float(keys.get("hot_fraction", 0.1)),
                                                 float(keys.get("hot_access", 0.9)))
    else:
        out["classes"] = lambda exponent=float(keys.get("exponent", 1.0)): zipf_classes(out["keys"], exponent)
    return out
