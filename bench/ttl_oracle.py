# SPDX-License-Identifier: Apache-2.0
"""The least stale reads any TTL policy can serve at a given hit ratio, in the
simulator's cache model (docs/sim-models.md, "Cache"), for bench/target_bounds.py.

An oracle that knows every key class's lookup rate sets a TTL for each class
and each hour of the day (24 moments of the diurnal load), with unlimited
memory, each moment in its steady state. Per key of lookup rate r, change
rate nu and TTL T, the model's non-resetting TTL entry gives:

    hit share      h(T) = r T / (1 + r T)
    stale share    s(T) = 1 - (1 - e^(-nu T)) / (nu T)   (of the hits)

Stale reads per second are r h s, hits r h. The least stale reads at a hit
ratio H: for a price mu of a hit in stale reads, each key's TTL minimises
r h (s - mu); mu is bisected until the hits reach H, and the answer is the
Lagrangian dual, stale(mu) - mu (hits(mu) - H), a lower bound for any TTLs
(and the minimum itself when the hits meet H exactly).

Why this bounds every policy of the knobs, and where it assumes:
- A fixed TTL is the best expiry rule for a key: the stale time of an entry
  that lives L, L - (1 - e^(-nu L)) / nu, is convex in L, so an expiry at a
  random life (the LRU of a capacity, a flush, a trim) with the same mean
  life serves the same hits with more stale reads (Jensen).
- Steady state at each moment: a policy whose entries lag a TTL that moves
  with the load is not covered by this argument. (A reviewer's random
  search over 150 smooth daily TTL schedules found none below the oracle.)
- cache_hotspot's moves of the hot set are left out: each move costs the
  new hot keys their misses, taken as a loss for any policy.
Only invalidating entries on a write or refreshing them ahead of expiry
would do better, and the model has neither.

The formulas are cache_math.cpp's (ttlHitProbability, staleHitFraction) and
the classes key_popularity_model.cpp's; target_bounds.py checks the result
against the simulator at fixed TTLs.
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


def totals(classes, loads, nu, ttl_of):
    """(hit ratio, stale reads per second) when each key of lookup rate r has the TTL ttl_of(r), unlimited memory.
    classes: [(keys, lookup probability per key)]; loads: lookups/s at equally spaced moments of a day."""
    hits = stale = 0.0
    for load in loads:
        for keys, p in classes:
            r = load * p
            t = ttl_of(r)
            h = hit_share(r * t)
            hits += keys * r * h
            stale += keys * r * h * stale_share(nu, t)
    return hits / sum(loads), stale / len(loads)


def fixed_ttl(classes, loads, nu, ttl):
    """totals() of one TTL for every key."""
    return totals(classes, loads, nu, lambda r: ttl)


def least_stale(classes, loads, nu, target_hit):
    """The oracle: (hit ratio, a lower bound on the stale reads per second) of any TTLs whose hit ratio is at
    least target_hit. classes: [(keys, lookup probability per key)]; loads: lookups/s at equally spaced moments
    of a day. Raises ValueError for a target no finite price reaches."""
    def at(mu):
        return totals(classes, loads, nu, lambda r: best_ttl(r, nu, mu))

    lo, hi = 0.0, 1.0
    while at(hi)[0] < target_hit:  # a higher price buys longer TTLs: hits up to every lookup after the first
        lo, hi = hi, 2 * hi
        if hi > 1e6:
            raise ValueError(f"no TTLs reach a hit ratio of {target_hit:g} (at most {at(lo)[0]:.4f})")
    for _ in range(30):
        mid = (lo + hi) / 2
        if at(mid)[0] < target_hit:
            lo = mid
        else:
            hi = mid
    hit, stale = at(hi)
    # Lagrangian dual: min over TTLs of stale - mu hits, plus mu times the hits asked for.
    mean_load = sum(loads) / len(loads)
    return hit, stale - hi * (hit - target_hit) * mean_load


def diurnal_loads(mean, amplitude, moments=24):
    """load.diurnal's mean (1 + amplitude cos(phase)) at equally spaced phases (noise left out)."""
    return [mean * (1 + amplitude * math.cos(2 * math.pi * i / moments)) for i in range(moments)]


def hotspot_classes(keys, hot_fraction, hot_access):
    """keys.hotspot's two classes (KeyPopularityModel)."""
    hot = min(max(round(hot_fraction * keys), 1.0), max(1.0, keys - 1))
    if keys - hot <= 0:
        return [(keys, 1.0 / keys)]
    access = min(max(hot_access, 0.0), 1.0)
    return [(hot, access / hot), (keys - hot, (1 - access) / (keys - hot))]


def zipf_classes(keys, exponent, count=64):
    """keys.zipf's classes as KeyPopularityModel::buildZipf makes them: ranks in at most `count` log-spaced
    classes (one key per class when there are few), each key of a class at the class's mean probability."""
    n = int(keys)
    if n <= count:
        bounds = list(range(1, n + 1))
    else:
        bounds, last = [], 0
        for j in range(1, count + 1):
            b = max(float(round(n ** (j / count))), last + 1)
            if j == count:
                b = n
            if b > n:
                break
            bounds.append(int(b))
            last = b
            if b == n:
                break
    partial, total, wanted = {0: 0.0}, 0.0, set(bounds)
    for rank in range(1, n + 1):
        total += rank ** -exponent
        if rank in wanted:
            partial[rank] = total
    edges = [0] + bounds
    return [(b - a, (partial[b] - partial[a]) / total / (b - a)) for a, b in zip(edges, edges[1:])]


def seconds(text):
    m = re.fullmatch(r"\s*([0-9.]+)\s*(ms|s|m|h|d)?\s*", str(text))
    if not m:
        raise ValueError(f"not a duration: {text!r}")
    return float(m.group(1)) * {"ms": 1e-3, None: 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


# The keys of the models the oracle reads, each either used or known not to
# change its answer; any other key is an error, not a silent misreading.
READ_KEYS = {
    "load.diurnal": {"mean_rps", "amplitude", "noise", "peak_at", "period", "noise_correlation"},
    "keys.hotspot": {"keys", "hot_fraction", "hot_access", "shift_every"},
    "keys.zipf": {"keys", "exponent", "classes"},
    "cache": {"ttl", "capacity", "bytes_per_entry", "change_rate", "in_process", "warm_start", "resolution",
              "trim_cost_per_entry"},
}
# What the oracle applies from a perturbed run; a drawn value of another key
# of READ_KEYS' models that it uses would be an error.
PERTURBED = {"mean_rps", "change_rate", "exponent", "hot_access"}
USED = {"mean_rps", "amplitude", "keys", "hot_fraction", "hot_access", "exponent", "classes", "change_rate"}


def drawn(sc, perturbations):
    """read_scenario()'s answer with one perturbed run's drawn values (summary.json's `perturbations`,
    paths like models[0].mean_rps): those of PERTURBED replace the scenario's."""
    out = dict(sc)
    for p in perturbations:
        key = p["path"].rsplit(".", 1)[-1]
        if key in ("exponent", "hot_access"):  # the popularity skew: the key classes change
            out["classes"] = lambda v=p["value"]: sc["classes"](v)
        elif key in PERTURBED:
            out[key] = p["value"]
    return out


def read_scenario(path):
    """What the oracle needs from a scenario file: duration, the diurnal load, the keys, the change rate
    and the `perturb:` spreads. Raises ValueError naming the file and what is missing or not understood."""
    with open(path) as f:
        lines = f.read().splitlines()
    models, perturb, duration, current, section = {}, {}, None, None, None
    for number, line in enumerate(lines, 1):
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
                if value.startswith("load.") and value != "load.diurnal":
                    raise ValueError(f"{path}:{number}: the oracle knows the load of load.diurnal alone, not {value}")
                current = models.setdefault(value, {}) if value in READ_KEYS else None
            elif text.strip().startswith("- "):
                raise ValueError(f"{path}:{number}: a model entry must start with '- model:'")
            elif current is not None:
                current[key] = value
        elif section == "perturb":
            perturb[key] = float(value)
    load = models.get("load.diurnal")
    kind = "keys.hotspot" if "keys.hotspot" in models else "keys.zipf"
    keys = models.get(kind)
    if duration is None or load is None or keys is None or "cache" not in models:
        raise ValueError(f"{path}: the oracle needs duration, load.diurnal, keys.hotspot or keys.zipf, and cache")
    for model, fields in models.items():
        unknown = sorted(set(fields) - READ_KEYS[model])
        if unknown:
            raise ValueError(f"{path}: {model}: the oracle does not know {', '.join(unknown)}")
    for key in perturb:
        model, _, field = key.rpartition(".")
        if model in READ_KEYS and field in USED and field not in PERTURBED:
            raise ValueError(f"{path}: perturb: the oracle does not apply drawn values of {key}")
    out = {"duration": duration, "mean_rps": float(load["mean_rps"]),
           "amplitude": float(load.get("amplitude", 0)),
           "change_rate": float(models["cache"].get("change_rate", DEFAULT_CHANGE_RATE)),
           "keys": float(keys["keys"]), "perturb": perturb}
    if kind == "keys.hotspot":
        out["classes"] = lambda hot_access=float(keys.get("hot_access", 0.9)): hotspot_classes(
            out["keys"], float(keys.get("hot_fraction", 0.1)), hot_access)
    else:
        out["classes"] = lambda exponent=float(keys.get("exponent", 1.0)): zipf_classes(
            out["keys"], exponent, int(keys.get("classes", 64)))
    return out
