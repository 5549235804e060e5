"""``randperm`` by the compiled Fisher-Yates shuffle: every permutation equally likely (chi-square over all
permutations of 4, and over the value at each position of 50), reproducible under a seed, and PyTorch's checks."""

import itertools

import numpy as np
import pytest
import torch

import engine
from engine import random_kernels


def _chi_square(counts, expected):
    return float(((np.asarray(counts) - expected) ** 2 / expected).sum())


def test_all_permutations_of_four_are_equally_likely():
    engine.manual_seed(5)
    index = {p: k for k, p in enumerate(itertools.permutations(range(4)))}
    counts = np.zeros(24)
    for _ in range(24_000):
        counts[index[tuple(engine.randperm(4).tolist())]] += 1
    assert _chi_square(counts, 1000) < 49.7  # 23 degrees of freedom, 0.1% critical value


def test_each_value_is_equally_likely_at_each_position():
    g = engine.Generator().manual_seed(7)
    counts = np.zeros((50, 50))
    for _ in range(5000):
        counts[np.arange(50), engine.randperm(50, generator=g).numpy()] += 1
    # 49 degrees of freedom per position, 0.1% critical value; and the total over positions
    assert max(_chi_square(row, 100) for row in counts) < 85.4
    assert _chi_square(counts, 100) < 2450 + 4 * np.sqrt(2 * 2450)


@pytest.mark.parametrize("n", [0, 1, 2, 1000, 1_000_000])
def test_a_permutation_of_every_size(n):
    p = engine.randperm(n).numpy()
    assert p.dtype == np.int64 and p.shape == (n,)
    np.testing.assert_array_equal(np.sort(p), np.arange(n))


def test_a_seed_reproduces_it_and_numpy_serves_without_numba(monkeypatch):
    engine.manual_seed(3)
    first = engine.randperm(100).tolist()
    engine.manual_seed(3)
    assert engine.randperm(100).tolist() == first
    assert engine.randperm(100, generator=engine.Generator().manual_seed(3)).tolist() == first
    monkeypatch.setattr(random_kernels, "_kernel", lambda: None)
    assert sorted(engine.randperm(100).tolist()) == list(range(100))


@pytest.mark.parametrize("n, error", [(-1, RuntimeError), (2.5, TypeError), (True, TypeError)])
def test_bad_sizes_raise_as_in_torch(n, error):
    with pytest.raises(error) as ref:
        torch.randperm(n)
    with pytest.raises(error) as ours:
        engine.randperm(n)
    assert str(ours.value) == str(ref.value)
