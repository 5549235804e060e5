"""topk, aminmax and searchsorted where the op table's small samples do not reach: work split over two
threads (by lines, or by parts of one long line for aminmax), against PyTorch."""

import numpy as np
import pytest
import torch

import engine
from engine.threads import PARALLEL_MIN_SIZE

_SHAPE = (2 * PARALLEL_MIN_SIZE // 250 + 3, 250)


pytestmark = pytest.mark.usefixtures("two_threads")


def _input(dtype=np.float32, nans=False):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(_SHAPE).astype(dtype)
    if nans:
        x[rng.random(_SHAPE) < 0.01] = np.nan
    return x


@pytest.mark.parametrize("dim", [0, 1])
@pytest.mark.parametrize("largest", [True, False])
def test_topk(dim, largest):
    x = _input()
    ours = engine.topk(engine.tensor(x), 5, dim=dim, largest=largest)
    theirs = torch.topk(torch.tensor(x), 5, dim=dim, largest=largest)
    np.testing.assert_array_equal(ours.values.numpy(), theirs.values.numpy())
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())


@pytest.mark.parametrize("dim", [None, 0, 1])
@pytest.mark.parametrize("nans", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_aminmax(dim, nans, dtype):
    x = _input(dtype, nans)
    ours = engine.aminmax(engine.tensor(x), dim=dim)
    theirs = torch.aminmax(torch.tensor(x), dim=dim)
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == engine.tensor(b.numpy()).dtype
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("right", [False, True])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_searchsorted_lines(right, dtype):
    rng = np.random.default_rng(1)
    seq = np.sort(rng.integers(0, 50, _SHAPE).astype(dtype), axis=1)  # ties
    seq[0, -3:] = np.nan
    values = rng.integers(-2, 53, _SHAPE).astype(dtype)
    values[:2, :5] = np.nan
    ours = engine.searchsorted(engine.tensor(seq), engine.tensor(values), right=right)
    theirs = torch.searchsorted(torch.tensor(seq), torch.tensor(values), right=right)
    assert ours.dtype == engine.int64
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize(("seq_shape", "values_shape"), [((0, 5), (0, 3)), ((3, 0), (3, 2)), ((2, 0, 4), (2, 0, 5))])
def test_searchsorted_empty(seq_shape, values_shape):
    seq, values = np.zeros(seq_shape, np.float32), np.zeros(values_shape, np.float32)
    ours = engine.searchsorted(engine.tensor(seq), engine.tensor(values))
    theirs = torch.searchsorted(torch.tensor(seq), torch.tensor(values))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    assert ours.shape == theirs.shape


@pytest.mark.parametrize("size", [7, 1000, 2 * PARALLEL_MIN_SIZE + 1], ids=["tiny", "small", "threaded"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_aminmax_special_values(size, dtype):
    """The extremes come from the floats' bits read as integers: every sign mix, infinities, both zeros,
    subnormals and NaNs of either sign (in a line of their own each), on and off the threads."""
    rng = np.random.default_rng(2)
    rows = {
        "mixed": rng.standard_normal(size),
        "negative": -np.abs(rng.standard_normal(size)) - 1e-30,
        "positive": np.abs(rng.standard_normal(size)),
        "zeros": np.where(rng.random(size) < 0.5, 0.0, -0.0),
        "infinities": np.where(rng.random(size) < 0.5, np.inf, -rng.random(size)),
        "subnormal": rng.standard_normal(size) * np.finfo(dtype).smallest_subnormal * 4,
        "nan": np.where(np.arange(size) == size // 2, np.nan, rng.standard_normal(size)),
        "minus nan": np.where(np.arange(size) == size - 1, -np.nan, -np.abs(rng.standard_normal(size))),
    }
    for name, row in rows.items():
        x = row.astype(dtype)
        for dim, keepdim in ((None, False), (None, True), (0, False)):
            kwargs = {} if dim is None else {"dim": dim}
            ours = engine.aminmax(engine.tensor(x), keepdim=keepdim, **kwargs)
            theirs = torch.aminmax(torch.tensor(x), keepdim=keepdim, **kwargs)
            for a, b in zip(ours, theirs, strict=True):
                assert a.shape == tuple(b.shape), name
                np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=name)
