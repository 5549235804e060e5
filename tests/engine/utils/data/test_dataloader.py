"""The DataLoader: batches, errors like PyTorch's, shuffling, its worker threads and the batched fast path."""

import gc
import threading
import time

import numpy as np
import pytest
from data_support import NoFastPath, Range, Stream, assert_batches_equal, loader_threads, needs_torch, tud

import engine
from engine.utils.data import DataLoader, Dataset, SequentialSampler, Subset, TensorDataset, get_worker_info


def test_loader_batches_len_and_drop_last():
    ds = TensorDataset(engine.arange(10).float(), engine.arange(10))
    loader = DataLoader(ds, batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and len(batches) == 3
    x, y = batches[-1]
    assert x.tolist() == [8.0, 9.0] and y.dtype is engine.int64
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    assert len(loader) == 2 and len(list(loader)) == 2
    loader = DataLoader(Range(3), batch_size=None)
    assert len(loader) == 3 and list(loader) == [0, 1, 2]
    one = list(DataLoader(Range(3)))
    assert [b.tolist() for b in one] == [[0], [1], [2]]


def test_loader_batch_sampler_and_sampler_arguments():
    loader = DataLoader(Range(6), batch_sampler=[[5, 4], [0]])
    assert [b.tolist() for b in loader] == [[5, 4], [0]]
    loader = DataLoader(Range(6), batch_size=2, sampler=[5, 3, 1])
    assert [b.tolist() for b in loader] == [[5, 3], [1]]


def test_loader_errors_like_torch():
    ds = Range(4)
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching and is mutually exclusive "
                                         "with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=SequentialSampler(ds), shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                         "sampler, and drop_last"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0]])
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="timeout option should be non-negative"):
        DataLoader(ds, timeout=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    loader = DataLoader(ds)
    with pytest.raises(ValueError, match="batch_size attribute should not be set after DataLoader is initialized"):
        loader.batch_size = 3
    loader.num_workers = 1  # not protected, as in PyTorch


@needs_torch
def test_loader_errors_match_torch_messages():
    cases = [dict(batch_size=None, drop_last=True), dict(sampler=[0, 1], shuffle=True),
             dict(batch_size=2, batch_sampler=[[0]]), dict(num_workers=-1), dict(prefetch_factor=2),
             dict(persistent_workers=True)]
    for kwargs in cases:
        with pytest.raises(ValueError) as theirs:
            tud.DataLoader(list(range(4)), **kwargs)
        with pytest.raises(ValueError) as ours:
            DataLoader(list(range(4)), **kwargs)
        assert str(ours.value) == str(theirs.value)


def test_shuffle_every_index_once_and_reproducible():
    ds = Range(103)
    engine.manual_seed(7)
    first = [b.tolist() for b in DataLoader(ds, batch_size=10, shuffle=True)]
    second = [b.tolist() for b in DataLoader(ds, batch_size=10, shuffle=True)]
    flat = [i for b in first for i in b]
    assert sorted(flat) == list(range(103)) and flat != list(range(103))
    assert first != second  # a new epoch, a new order
    engine.manual_seed(7)
    again = [b.tolist() for b in DataLoader(ds, batch_size=10, shuffle=True)]
    assert again == first
    g = engine.Generator().manual_seed(5)
    a = [b.tolist() for b in DataLoader(ds, batch_size=10, shuffle=True, generator=g)]
    g.manual_seed(5)
    b = [b.tolist() for b in DataLoader(ds, batch_size=10, shuffle=True, generator=g)]
    assert a == b


def test_iterable_dataset_loader():
    loader = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5], [6]] and len(loader) == 3
    loader = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in loader] == [[0, 1, 2], [3, 4, 5]] and len(loader) == 2
    assert list(DataLoader(Stream(3), batch_size=None)) == [0, 1, 2]
    # two workers, each its share (via get_worker_info), interleaved round-robin as in PyTorch
    batches = [b.tolist() for b in DataLoader(Stream(10), batch_size=2, num_workers=2)]
    assert batches == [[0, 2], [1, 3], [4, 6], [5, 7], [8], [9]]


class Slow(Dataset):
    """Sample i is (i, float(i)); later samples are faster, so workers finish out of order."""

    def __init__(self, n, fail_at=None):
        self.n = n
        self.fail_at = fail_at
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"bad sample {i}")
        time.sleep(0.002 * ((self.n - i) % 4))
        return i, float(i), {"name": f"s{i}"}


def test_workers_preserve_order_and_match_single_thread():
    ds = Slow(40)
    engine.manual_seed(3)
    single = list(DataLoader(ds, batch_size=3, shuffle=True))
    for workers in (1, 2, 4):
        engine.manual_seed(3)
        threaded = list(DataLoader(ds, batch_size=3, shuffle=True, num_workers=workers))
        assert_batches_equal(threaded, single)
    assert loader_threads() == []


def test_worker_info_and_init_fn():
    seen = []

    class Who(Dataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            info = get_worker_info()
            return -1 if info is None else info.id

    ids = [b.tolist() for b in DataLoader(Who(), batch_size=2, num_workers=3, worker_init_fn=seen.append)]
    assert ids == [[0, 0], [1, 1], [2, 2]]
    assert sorted(seen) == [0, 1, 2]
    assert [b.tolist() for b in DataLoader(Who(), batch_size=3)] == [[-1, -1, -1], [-1, -1, -1]]


def test_prefetch_is_bounded():
    started = []
    release = threading.Event()

    class Blocking(Dataset):
        def __len__(self):
            return 100

        def __getitem__(self, i):
            started.append(i)
            if i > 0:
                release.wait(5)
            return i

    it = iter(DataLoader(Blocking(), batch_size=1, num_workers=2, prefetch_factor=3))
    time.sleep(0.1)
    assert len(started) <= 3  # worker 0 got past sample 0, then both are stuck
    release.set()
    assert next(it).item() == 0
    time.sleep(0.1)
    assert len(started) <= 1 + 2 * 3
    it.close()
    assert loader_threads() == []


def test_worker_exception_is_reraised_with_traceback():
    loader = DataLoader(Slow(20, fail_at=7), batch_size=4, num_workers=2)
    got = []
    with pytest.raises(ValueError) as info:
        for b in loader:
            got.append(b)
    assert len(got) == 1  # batch 0 delivered, batch 1 holds the failing sample
    msg = str(info.value)
    assert "Caught ValueError in DataLoader worker thread" in msg
    assert "Traceback (most recent call last)" in msg and "bad sample 7" in msg and "__getitem__" in msg
    assert loader_threads() == []


def test_threads_stop_on_break_close_gc_and_exhaustion():
    ds = Slow(60)
    for _ in DataLoader(ds, batch_size=2, num_workers=3):
        break
    gc.collect()
    assert loader_threads() == []
    it = iter(DataLoader(ds, batch_size=2, num_workers=2))
    next(it)
    assert len(loader_threads()) == 2
    it.close()
    assert loader_threads() == []
    with pytest.raises(StopIteration):
        next(it)
    it = iter(DataLoader(ds, batch_size=2, num_workers=2))
    next(it)
    del it
    assert loader_threads() == []
    list(DataLoader(ds, batch_size=7, num_workers=2))
    assert loader_threads() == []


def test_timeout():
    class Stuck(Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            time.sleep(0.5)
            return i

    with pytest.raises(RuntimeError, match="DataLoader timed out after 0.05 seconds"):
        next(iter(DataLoader(Stuck(), num_workers=1, timeout=0.05)))
    assert loader_threads() == []


def test_in_order_false_delivers_everything():
    batches = [b[0].tolist() for b in DataLoader(Slow(30), batch_size=2, num_workers=3, in_order=False)]
    assert sorted(i for b in batches for i in b) == list(range(30))


def test_tensor_dataset_fast_path_matches_per_sample():
    x = engine.randn(50, 3, 4)
    ds = TensorDataset(x, engine.arange(50), engine.rand(50) > 0.5)
    for workers in (0, 2):
        engine.manual_seed(0)
        fast = list(DataLoader(ds, batch_size=8, shuffle=True, num_workers=workers))
        engine.manual_seed(0)
        slow = list(DataLoader(NoFastPath(ds), batch_size=8, shuffle=True, num_workers=workers))
        assert_batches_equal(fast, slow)


def test_fast_path_is_used_and_custom_collate_bypasses_it():
    calls = []

    class Counting(TensorDataset):
        def __getitem__(self, index):
            calls.append(index)
            return super().__getitem__(index)

    ds = Counting(engine.arange(10))
    list(DataLoader(ds, batch_size=4))
    assert calls == []
    list(DataLoader(ds, batch_size=4, collate_fn=lambda b: b))
    assert len(calls) == 10
    sub = Subset(ds, [9, 8, 7])
    calls.clear()
    assert [b[0].tolist() for b in DataLoader(sub, batch_size=2)] == [[9, 8], [7]]
    assert calls == []


def test_cuda_tensors_collate_and_fast_path_on_their_device(fake_cuda):
    x = engine.arange(12.0).reshape(6, 2).to("cuda:0")
    ds = TensorDataset(x, engine.arange(6))
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(NoFastPath(ds), batch_size=4))
    for f, s in zip(fast, slow):
        assert f[0].device == s[0].device == engine.device("cuda:0")
        np.testing.assert_array_equal(f[0].cpu().numpy(), s[0].cpu().numpy())
        np.testing.assert_array_equal(f[1].numpy(), s[1].numpy())
