#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""bench/ttl_oracle.py, the any-TTL bound of bench/target_bounds.py: its
optimisation against cases with a known answer, its classes, its reader."""
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

    def test_more_hits_cost_more_stale_reads(self):
        classes = oracle.hotspot_classes(1e6, 0.1, 0.9)
        loads = [500.0]
        low = oracle.least_stale(classes, loads, NU, 0.6)[1]
        high = oracle.least_stale(classes, loads, NU, 0.8)[1]
        self.assertLess(low, high)

    def test_stale_share_limits(self):
        self.assertAlmostEqual(oracle.stale_share(1e-7, 1.0), 0.5e-7, delta=1e-15)
        self.assertAlmostEqual(oracle.stale_share(1e-5, 1.0), 0.5e-5, delta=1e-10)
        self.assertAlmostEqual(oracle.stale_share(1.0, 1e6), 1.0, delta=1e-5)
        z = 0.3
        self.assertAlmostEqual(oracle.stale_share(z, 1.0), 1 - (1 - math.exp(-z)) / z, delta=1e-12)

    def test_zipf_classes_cover_every_key_once(self):
        classes = oracle.zipf_classes(100000, 0.9, count=50)
        self.assertEqual(sum(k for k, _ in classes), 100000)
        self.assertAlmostEqual(sum(k * p for k, p in classes), 1.0, delta=1e-9)
        per_key = [p for _, p in classes]
        self.assertEqual(per_key, sorted(per_key, reverse=True))

    def test_reads_the_scenarios(self):
        sc = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "cache_hotspot.yaml"))
        self.assertEqual((sc["duration"], sc["mean_rps"], sc["amplitude"], sc["change_rate"]),
                         (172800.0, 500.0, 0.4, 0.0000463))
        self.assertEqual(sc["perturb"]["cache.change_rate"], 0.3)
        self.assertEqual(len(sc["classes"]()), 2)
        leak = oracle.read_scenario(os.path.join(ROOT, "sim", "scenarios", "memory_leak.yaml"))
        self.assertEqual(leak["change_rate"], oracle.DEFAULT_CHANGE_RATE)

    def test_a_scenario_without_a_cache_is_refused_by_name(self):
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("duration: 1d\nmodels:\n  - model: load.diurnal\n    mean_rps: 10\n")
        try:
            with self.assertRaisesRegex(ValueError, os.path.basename(f.name)):
                oracle.read_scenario(f.name)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
