"""rot90 of arrays large enough that the flipped copy is split over the CPU threads: PyTorch's values and
layout for every turn, dims and leading-axis length (one row, fewer rows than threads, many)."""

import numpy as np
import pytest
import torch

import engine
from engine.threads import PARALLEL_MIN_SIZE


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("shape, dims", [((600, 700), (0, 1)), ((3, 300, 200), (2, 1)), ((1, 700, 200), (1, 2)),
                                         ((400, 2, 300), (0, 2))])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_large_rot90_matches_torch(k, shape, dims, threads):
    assert np.prod(shape) >= PARALLEL_MIN_SIZE
    a = np.random.default_rng(k).standard_normal(shape).astype(np.float32)
    before = engine.get_num_threads()
    engine.set_num_threads(threads)
    try:
        ours = engine.rot90(engine.tensor(a), k, dims)
    finally:
        engine.set_num_threads(before)
    ref = torch.rot90(torch.tensor(a), k, dims)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours.stride() == ref.stride()


def test_large_rot90_of_a_strided_view():
    a = np.random.default_rng(0).standard_normal((900, 800)).astype(np.float64)
    ours = engine.rot90(engine.tensor(a)[::2, 1::2], 1)
    ref = torch.rot90(torch.tensor(a)[::2, 1::2], 1)
    np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    assert ours.stride() == ref.stride()
