"""The compiled ``nonzero`` (``engine/ops/masked_kernels.py``) against PyTorch, on arrays big enough to be split
over the threads (each share starting mid-way through the leading dims) and on the shapes around them."""

import numpy as np
import pytest
import torch

import engine
from engine.threads import PARALLEL_MIN_SIZE

_BIG = 2 * PARALLEL_MIN_SIZE


@pytest.mark.parametrize("shape", [(_BIG,), (_BIG // 250, 250), (7, _BIG // 700, 100), (3, 5, 4, _BIG // 60),
                                   (10, 100), (1, 1), (4, 0, 3)])
@pytest.mark.parametrize("dtype", ["bool", "float32", "int64", "uint8", "float16"])  # float16: NumPy's path
def test_nonzero_matches_torch(shape, dtype):
    rng = np.random.default_rng(0)
    values = rng.standard_normal(shape) * (rng.random(shape) < 0.4)
    if dtype == "float32" and values.size:
        values.flat[::97] = np.nan  # NaN counts as nonzero, -0.0 does not
        values.flat[1::97] = -0.0
    a = values.astype(dtype) if dtype != "bool" else values != 0
    for ours, want in ((engine.nonzero(engine.tensor(a)), torch.nonzero(torch.tensor(a))),
                       (engine.argwhere(engine.tensor(a)), torch.argwhere(torch.tensor(a)))):
        assert ours.dtype == engine.int64
        np.testing.assert_array_equal(ours.numpy(), want.numpy())


def test_all_and_none_nonzero_across_threads():
    for a in (np.ones((_BIG // 100, 100), dtype=bool), np.zeros((_BIG // 100, 100), dtype=bool)):
        np.testing.assert_array_equal(engine.nonzero(engine.tensor(a)).numpy(), torch.nonzero(torch.tensor(a)).numpy())
