"""Datasets and comparisons shared by the tests of engine.utils.data and of image batches."""

import gc
import threading

import numpy as np
import pytest

import engine
from engine.utils.data import Dataset, IterableDataset, get_worker_info

try:
    import torch
    import torch.utils.data as tud  # noqa: F401  (for the tests that compare with PyTorch)
except ImportError:  # the comparisons with PyTorch are skipped
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is not installed")


class Range(Dataset):
    """Sample i is i; counts __getitem__ calls."""

    def __init__(self, n):
        self.n = n
        self.calls = 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        self.calls += 1
        return i


def loader_threads():
    return [t for t in threading.enumerate() if t.name.startswith("DataLoader worker")]


def as_numpy(batch):
    """A nested batch with tensors replaced by arrays, for comparisons."""
    if isinstance(batch, engine.Tensor):
        return batch.numpy()
    if isinstance(batch, (list, tuple)):
        return [as_numpy(b) for b in batch]
    if isinstance(batch, dict):
        return {k: as_numpy(v) for k, v in batch.items()}
    return batch


def assert_batches_equal(a, b):
    assert len(a) == len(b)
    for x, y in zip(a, b):
        assert_nested_equal(as_numpy(x), as_numpy(y))


def assert_nested_equal(x, y):
    if isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y)
        for u, v in zip(x, y):
            assert_nested_equal(u, v)
    elif isinstance(x, dict):
        assert x.keys() == y.keys()
        for k in x:
            assert_nested_equal(x[k], y[k])
    else:
        assert x == y


class NoFastPath(Dataset):
    """Hides a dataset's __getbatch__, so the loader takes one sample at a time."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds[i]


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    gc.collect()
    assert loader_threads() == []


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))

    def __len__(self):
        return self.n
