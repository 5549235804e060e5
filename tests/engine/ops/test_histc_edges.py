"""histc's bin edges, written out instead of ``np.linspace``, are linspace's bit for bit (so every value
lands in the same bin), over ranges from subnormal to large and any bin count."""

import numpy as np

from engine.ops.histogram import _edges


def test_edges_are_linspace_bit_for_bit():
    rng = np.random.default_rng(0)
    for _ in range(5000):
        lo = float(rng.standard_normal() * 10.0 ** rng.integers(-5, 5))
        hi = lo + float(rng.random() * 10.0 ** rng.integers(-8, 5))
        if lo < hi:
            bins = int(rng.integers(1, 300))
            np.testing.assert_array_equal(_edges(np, lo, hi, bins), np.linspace(lo, hi, bins + 1))


def test_edges_of_tiny_ranges():
    for lo, hi in ((1.0, float(np.nextafter(1.0, 2))), (0.0, 5e-324)):  # steps that round to the same or zero
        for bins in (1, 3, 100):
            np.testing.assert_array_equal(_edges(np, lo, hi, bins), np.linspace(lo, hi, bins + 1))
