#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/ttl_oracle.py, the any-TTL bound of bench/target_bounds.py: its
optimisation against cases with a known answer and against brute force, its
classes against the simulator's, its reader's refusals."""
import math
import os
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import ttl_oracle as oracle  # noqa: E402

NU = 4.63e-5


class OracleTest(unittest.TestCase):
    def test_one_class_has_one_answer(self):
        # One class: the only way to a hit ratio h is the TTL with r T / (1 + r T) = h.
        r, target = 0.0045, 0.8
        hit, stale = oracle.least_stale([(1000, 1 / 1000)], [1000 * r], NU, target)
        ttl = target / (r * (1 - target))
        self.assertAlmostEqual(hit, target, delta=1e-6)
        expected = 1000 * r * target * oracle.stale_share(NU, ttl)
        self.assertAlmostEqual(stale / expected, 1.0, delta=1e-4)

    def test_per_key_ttls_beat_one_ttl(self):
        classes = oracle.hotspot_classes(1e6, 0.1, 0.9)
        loads = oracle.diurnal_loads(500, 0.4)
        hit_one, stale_one = oracle.fixed_ttl(classes, loads, NU, 3600)
        hit, stale = oracle.least_stale(classes, loads, NU, hit_one)
        self.assertGreaterEqual(hit, hit_one - 1e-6)
        # Hot keys need a short TTL, cold ones a long one: well under one TTL's stale reads.
        self.assertLess(stale, 0.8 * stale_one)

    def test_no_pair_of_ttls_beats_the_bound(self):
        # The bound's property itself: every hot/cold pair of TTLs on a grid that reaches the
        # hit ratio serves at least the oracle's stale reads.
        classes = oracle.hotspot_classes(1e6, 0.1, 0.9)
        loads, target = [500.0], 0.8
        _, bound = oracle.least_stale(classes, loads, NU, target)
        ttls = [10 ** (k / 40) for k in range(40, 281)]  # 10 s to 10^7 s
        best = math.inf
        for hot in ttls:
            for cold in ttls:
                hits = stale = 0.0
                for (keys, p), ttl in zip(classes, (hot, cold)):
                    r = loads[0] * p
                    h = oracle.hit_share(r * ttl)
                    hits += keys * r * h
                    stale += keys * r * h * oracle.stale_share(NU, ttl)
                if hits / loads[0] >= target:
                    best = min(best, stale)
        self.assertLess(best, math.inf)
        self.assertGreaterEqual(best, bound * (1 - 1e-9))
        self.assertLess(best, bound * 1.02)  # and the grid comes close: the bound is not loose

    def test_more_hits_cost_more_stale_reads(self):
        classes = oracle.hotspot_classes(1e6, 0.1, 0.9)
        low = oracle.least_stale(classes, [500.0], NU, 0.6)[1]
        high = oracle.least_stale(classes, [500.0], NU, 0.8)[1]
        self.assertLess(low, high)

    def test_an_unreachable_hit_ratio_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no TTLs reach a hit ratio of 1"):
            oracle.least_stale(oracle.hotspot_classes(1e6, 0.1, 0.9), [500.0], NU, 1.0)

    def test_stale_share_limits(self):
        # Both branches against the series z/2 - z^2/6 + z^3/24 of 1 - (1 - e^-z)/z.
        for z in (1e-8, 1e-7, 1e-5, 1e-3):
            series = z / 2 - z * z / 6 + z ** 3 / 24
            self.assertAlmostEqual(oracle.stale_share(z, 1.0) / series, 1.0, delta=1e-6)
        z = 0.3
        self.assertAlmostEqual(oracle.stale_share(z, 1.0), 1 - (1 - math.exp(-z)) / z, delta=1e-12)
        self.assertAlmostEqual(oracle.stale_share(1.0, 1e6), 1.0, delta=1e-5)

    def test_zipf_classes_are_the_simulators(self):
        # KeyPopularityModel::buildZipf: upper rank bounds round(n^(j/64)), strictly increasing, the last n.
        classes = oracle.zipf_classes(100000, 0.9)
        self.assertLessEqual(len(classes), 64)
        self.assertEqual(sum(k for k, _ in classes), 100000)
        self.assertEqual([k for k, _ in classes[:3]], [1, 1, 1])  # the top ranks one per class
        per_key = [p for _, p in classes]
        self.assertEqual(per_key, sorted(per_key, reverse=True))
        self.assertAlmostEqual(per_key[0], 1 / sum(r ** -0.9 for r in range(1, 100001)), delta=1e-12)
        self.assertEqual(len(oracle.zipf_classes(10, 1.0)), 10)  # few keys: one class each

    def test_reads_the_scenarios(self):
        sc = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "cache_hotspot.yaml"))
        self.assertEqual((sc["duration"], sc["mean_rps"], sc["amplitude"], sc["change_rate"]),
                         (172800.0, 500.0, 0.4, 0.0000463))
        self.assertEqual(sc["perturb"]["cache.change_rate"], 0.3)
        (hot, p_hot), (cold, p_cold) = sc["classes"]()
        self.assertEqual((hot, cold), (100000, 900000))
        self.assertAlmostEqual(p_hot / (0.9 / 100000), 1.0, delta=1e-12)
        self.assertAlmostEqual(p_cold / (0.1 / 900000), 1.0, delta=1e-12)
        leak = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "memory_leak.yaml"))
        self.assertEqual(leak["change_rate"], oracle.DEFAULT_CHANGE_RATE)
        self.assertEqual(leak["duration"], 7 * 86400)

    def refused(self, text, message):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write(text)
        try:
            with self.assertRaisesRegex(ValueError, os.path.basename(f.name) + ".*" + message):
                oracle.read_scenario(f.name)
        finally:
            os.unlink(f.name)

    def test_what_the_oracle_cannot_read_is_refused_by_name(self):
        base = ("duration: 1d\nmodels:\n  - model: load.diurnal\n    mean_rps: 10\n"
                "  - model: keys.zipf\n    keys: 1000\n")
        cache = "  - model: cache\n    ttl: 1h\n"
        self.refused(base, "needs duration, load.diurnal")  # no cache
        self.refused(base + cache + "  - model: load.step\n    rps: 5\n", "not load.step")
        self.refused(base + "    weekend_factor: 0.5\n" + cache, "keys.zipf: the oracle does not know weekend_factor")
        self.refused(base + cache + "    lookups_per_request: 2\n", "cache: the oracle does not know lookups_per")
        self.refused(base + cache + "perturb:\n  keys.zipf.keys: 0.1\n", "drawn values of keys.zipf.keys")

    def test_a_perturbed_run_replaces_what_was_drawn(self):
        sc = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "memory_leak.yaml"))
        drawn = oracle.drawn(sc, [
            {"path": "models[0].mean_rps", "factor": 1.1, "value": 220.0},
            {"path": "models[4].leak_per_second", "factor": 0.8, "value": 6553.6},
            {"path": "models[1].exponent", "factor": 1.1, "value": 0.99}])
        self.assertEqual(drawn["mean_rps"], 220.0)
        self.assertEqual(drawn["change_rate"], sc["change_rate"])
        self.assertGreater(drawn["classes"]()[0][1], sc["classes"]()[0][1])  # more skew: a hotter top key

    def test_a_drawn_hot_share_changes_the_hotspot_classes(self):
        sc = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "cache_hotspot.yaml"))
        drawn = oracle.drawn(sc, [{"path": "models[1].hot_access", "factor": 1.05, "value": 0.945}])
        (hot, p_hot), (cold, p_cold) = drawn["classes"]()
        self.assertEqual((hot, cold), (100000, 900000))
        self.assertAlmostEqual(p_hot * hot, 0.945, delta=1e-12)
        self.assertAlmostEqual(p_cold * cold, 0.055, delta=1e-12)


if __name__ == "__main__":
    unittest.main()
