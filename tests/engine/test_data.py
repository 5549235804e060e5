"""engine.utils.data: datasets, samplers, collation, the DataLoader, its worker threads and its fast path."""

import collections
import gc
import threading
import time

import numpy as np
import pytest

import engine
from engine.utils.data import (
    BatchSampler,
    ChainDataset,
    ConcatDataset,
    DataLoader,
    Dataset,
    ImageArrayDataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    default_convert,
    get_worker_info,
    random_split,
)
from engine.vision import transforms as T

try:
    import torch
    import torch.utils.data as tud
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
        _assert_nested_equal(as_numpy(x), as_numpy(y))


def _assert_nested_equal(x, y):
    if isinstance(x, np.ndarray):
        assert isinstance(y, np.ndarray) and x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)
    elif isinstance(x, list):
        assert isinstance(y, list) and len(x) == len(y)
        for u, v in zip(x, y):
            _assert_nested_equal(u, v)
    elif isinstance(x, dict):
        assert x.keys() == y.keys()
        for k in x:
            _assert_nested_equal(x[k], y[k])
    else:
        assert x == y


@pytest.fixture(autouse=True)
def no_leftover_threads():
    yield
    gc.collect()
    assert loader_threads() == []


# ----- collation -----

def test_collate_tensors_arrays_numbers():
    out = default_collate([engine.ones(2, 3), engine.zeros(2, 3)])
    assert isinstance(out, engine.Tensor) and out.shape == (2, 2, 3) and out.dtype is engine.float32
    out = default_collate([np.arange(3, dtype=np.int32), np.arange(3, dtype=np.int32)])
    assert isinstance(out, engine.Tensor) and out.dtype is engine.int32 and out.shape == (2, 3)
    out = default_collate([1.5, 2.0])
    assert out.dtype is engine.float64 and out.tolist() == [1.5, 2.0]
    out = default_collate([1, 2, 3])
    assert out.dtype is engine.int64 and out.tolist() == [1, 2, 3]
    out = default_collate([True, False])
    assert out.dtype is engine.bool
    out = default_collate([np.float32(1), np.float32(2)])
    assert out.dtype is engine.float32 and out.shape == (2,)
    out = default_collate([np.int64(1), np.int64(2)])
    assert out.dtype is engine.int64
    assert default_collate(["a", "b"]) == ["a", "b"]


def test_collate_structures():
    Point = collections.namedtuple("Point", "x y")
    batch = [
        {"img": np.full((2, 2), i, np.float32), "label": i, "meta": {"name": f"s{i}", "w": [i, 2.5]},
         "pt": Point(i, float(i))}
        for i in range(3)
    ]
    out = default_collate(batch)
    assert set(out) == {"img", "label", "meta", "pt"}
    assert out["img"].shape == (3, 2, 2)
    assert out["label"].tolist() == [0, 1, 2]
    assert out["meta"]["name"] == ["s0", "s1", "s2"]
    assert isinstance(out["meta"]["w"], list) and out["meta"]["w"][0].tolist() == [0, 1, 2]
    assert out["meta"]["w"][1].dtype is engine.float64
    assert isinstance(out["pt"], Point) and out["pt"].y.dtype is engine.float64
    # tuples become lists, lists stay lists
    out = default_collate([(engine.zeros(2), 1), (engine.ones(2), 2)])
    assert isinstance(out, list) and out[0].shape == (2, 2) and out[1].tolist() == [1, 2]
    out = default_collate([[1, 2], [3, 4]])
    assert isinstance(out, list) and out[0].tolist() == [1, 3] and out[1].tolist() == [2, 4]


def test_collate_errors():
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [3]])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([object(), object()])
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([engine.zeros(2), engine.zeros(3)])


def test_collate_keeps_grad_and_stacks_with_engine():
    a = engine.ones(2, requires_grad=True)
    out = default_collate([a, engine.zeros(2)])
    assert out.requires_grad
    out.sum().backward()
    assert a.grad.tolist() == [1.0, 1.0]


def test_default_convert():
    out = default_convert({"a": np.arange(3), "b": (np.float32(2), "s"), "c": 5})
    assert isinstance(out["a"], engine.Tensor) and out["a"].tolist() == [0, 1, 2]
    assert isinstance(out["b"], list) and isinstance(out["b"][0], engine.Tensor) and out["b"][1] == "s"
    assert out["c"] == 5


@needs_torch
@pytest.mark.parametrize("batch", [
    [1, 2, 3],
    [1.0, 2.5],
    [True, False],
    [(1, 2.0), (3, 4.0)],
    [{"a": 1, "b": [1.5, 2]}, {"a": 2, "b": [3.5, 4]}],
    [np.arange(4, dtype=np.int16), np.arange(4, dtype=np.int16)],
    [np.float32(1), np.float32(2)],
    [("x", 1), ("y", 2)],
])
def test_collate_matches_torch(batch):
    ours = as_numpy(default_collate(batch))

    def torch_np(b):
        if isinstance(b, torch.Tensor):
            return b.numpy()
        if isinstance(b, (list, tuple)):
            return [torch_np(x) for x in b]
        if isinstance(b, dict):
            return {k: torch_np(v) for k, v in b.items()}
        return b

    _assert_nested_equal(ours, torch_np(tud.default_collate(batch)))


# ----- datasets -----

def test_tensor_dataset():
    x, y = engine.arange(12).reshape(6, 2), engine.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[4]
    assert a.tolist() == [8, 9] and b.item() == 4
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(x, engine.arange(5))
    batch = ds.__getbatch__([5, 0, 3])
    assert isinstance(batch, list) and batch[0].tolist() == [[10, 11], [0, 1], [6, 7]]
    assert batch[1].tolist() == [5, 0, 3]


def test_subset_and_concat():
    base = Range(10)
    sub = Subset(base, [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [7, 2, 5]
    assert sub.__getitems__([0, 2]) == [7, 5]
    cat = ConcatDataset([Range(3), Range(4)])
    assert len(cat) == 7 and [cat[i] for i in range(7)] == [0, 1, 2, 0, 1, 2, 3]
    assert cat[-1] == 3 and cat[-7] == 0 and cat.cumulative_sizes == [3, 7]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-8]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    summed = Range(2) + Range(3)
    assert isinstance(summed, ConcatDataset) and len(summed) == 5


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


def test_chain_dataset():
    chained = Stream(3) + Stream(2)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 2, 0, 1] and len(chained) == 5
    with pytest.raises(AssertionError, match="ConcatDataset does not support IterableDataset"):
        ConcatDataset([Stream(3)])


def test_random_split_lengths_and_fractions():
    engine.manual_seed(0)
    parts = random_split(Range(10), [3, 7])
    assert [len(p) for p in parts] == [3, 7]
    idx = [i for p in parts for i in p.indices]
    assert sorted(idx) == list(range(10))
    parts = random_split(Range(11), [0.5, 0.5])
    assert [len(p) for p in parts] == [6, 5]
    parts = random_split(Range(10), [0.3, 0.3, 0.4])
    assert [len(p) for p in parts] == [3, 3, 4]
    assert sorted(i for p in parts for i in p.indices) == list(range(10))
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset"):
        random_split(Range(10), [3, 3])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        random_split(Range(10), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        random_split(Range(3), [1.0, 0.0])


def test_random_split_reproducible():
    a = random_split(Range(20), [5, 15], generator=engine.Generator().manual_seed(3))
    b = random_split(Range(20), [5, 15], generator=engine.Generator().manual_seed(3))
    assert a[0].indices == b[0].indices
    engine.manual_seed(1)
    c = random_split(Range(20), [5, 15])
    engine.manual_seed(1)
    d = random_split(Range(20), [5, 15])
    assert c[0].indices == d[0].indices


# ----- samplers -----

def test_samplers():
    assert list(SequentialSampler(Range(4))) == [0, 1, 2, 3]
    engine.manual_seed(0)
    rs = RandomSampler(Range(10))
    perm = list(rs)
    assert sorted(perm) == list(range(10)) and len(rs) == 10
    assert list(RandomSampler(Range(10), generator=engine.Generator().manual_seed(1))) == \
        list(RandomSampler(Range(10), generator=engine.Generator().manual_seed(1)))
    draws = list(RandomSampler(Range(5), replacement=True, num_samples=50))
    assert len(draws) == 50 and set(draws) <= set(range(5))
    longer = list(RandomSampler(Range(4), num_samples=10))
    assert len(longer) == 10 and sorted(longer[:8]) == sorted(list(range(4)) * 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(Range(5), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value"):
        RandomSampler(Range(5), replacement=1)
    sub = list(SubsetRandomSampler([10, 20, 30]))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0], 5))
    assert w == [1] * 5
    w = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False))
    assert sorted(w) == [0, 1, 2]


def test_batch_sampler():
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=False)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9]] and len(bs) == 4
    bs = BatchSampler(SequentialSampler(range(10)), 3, drop_last=True)
    assert list(bs) == [[0, 1, 2], [3, 4, 5], [6, 7, 8]] and len(bs) == 3
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


# ----- the loader -----

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


# ----- worker threads -----

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


# ----- the fast path -----

class NoFastPath(Dataset):
    """Hides a dataset's __getbatch__, so the loader takes one sample at a time."""

    def __init__(self, ds):
        self.ds = ds

    def __len__(self):
        return len(self.ds)

    def __getitem__(self, i):
        return self.ds[i]


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


def image_data(n=37, channels=3, size=12, seed=0):
    rng = np.random.default_rng(seed)
    shape = (n, size, size, channels) if channels else (n, size, size)
    return rng.integers(0, 256, shape, dtype=np.uint8), rng.integers(0, 10, n).tolist()


@pytest.mark.parametrize("channels", [3, 1, 0])
@pytest.mark.parametrize("make", [
    lambda: T.Compose([T.ToTensor(), T.Normalize((0.5, 0.4, 0.3), (0.2, 0.25, 0.3))]),
    lambda: T.Compose([T.CenterCrop(8), T.ToTensor()]),
    lambda: T.Compose([T.CenterCrop((15, 9)), T.PILToTensor()]),
    lambda: T.Compose([T.Pad((1, 2, 3, 4), fill=7), T.ToTensor(), T.CenterCrop(10)]),
    lambda: T.Compose([T.Pad(2, padding_mode="reflect"), T.Grayscale(3), T.ToTensor()]),
    lambda: T.Compose([T.Grayscale(), T.ToTensor(), T.Normalize((0.5,), (0.5,))]),
    lambda: T.Compose([T.RandomCrop(12, padding=0), T.RandomHorizontalFlip(p=0.0), T.RandomVerticalFlip(p=1.0),
                       T.ToTensor()]),
    lambda: T.Compose([T.ToTensor(), T.RandomHorizontalFlip(p=1.0), T.Grayscale(), T.CenterCrop(6)]),
    lambda: None,
])
def test_image_fast_path_matches_per_sample_for_deterministic_transforms(make, channels):
    transform = make()  # with one channel, three means broadcast to three channels, as per image
    images, targets = image_data(channels=channels)
    ds = ImageArrayDataset(images, targets, transform)
    fast = list(DataLoader(ds, batch_size=5, shuffle=False))
    slow = list(DataLoader(NoFastPath(ds), batch_size=5, shuffle=False))
    assert_batches_equal(fast, slow)
    assert ds.__getbatch__([0, 1]) is not NotImplemented


def test_image_fast_path_declines_what_it_cannot_batch():
    images, targets = image_data()
    ds = ImageArrayDataset(images, targets, T.Compose([T.Resize(6), T.ToTensor()]))
    assert ds.__getbatch__([0, 1]) is NotImplemented
    x, y = next(iter(DataLoader(ds, batch_size=4)))
    assert x.shape == (4, 3, 6, 6) and y.dtype is engine.int64
    ds = ImageArrayDataset(images, targets, T.RandomCrop(8))  # PIL images out: nothing to collate
    assert ds.__getbatch__([0, 1]) is NotImplemented
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors"):
        next(iter(DataLoader(ds, batch_size=4)))
    ds = ImageArrayDataset(images, targets, T.ToTensor(), target_transform=lambda t: t * 2)
    x, y = next(iter(DataLoader(ds, batch_size=3)))
    assert y.tolist() == [2 * t for t in targets[:3]]


def test_random_image_pipeline_reproducible_and_independent_of_workers():
    images, targets = image_data(n=64, size=16)
    transform = T.Compose([T.RandomCrop(16, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),
                           T.Normalize((0.5, 0.5, 0.5), (0.25, 0.25, 0.25))])
    ds = ImageArrayDataset(images, targets, transform)
    runs = []
    for workers in (0, 0, 2, 3):
        engine.manual_seed(11)
        runs.append(list(DataLoader(ds, batch_size=10, shuffle=True, num_workers=workers)))
    for other in runs[1:]:
        assert_batches_equal(other, runs[0])
    engine.manual_seed(12)
    different = list(DataLoader(ds, batch_size=10, shuffle=True))
    assert not np.array_equal(different[0][0].numpy(), runs[0][0][0].numpy())
    # the per-sample path is reproducible too, and also independent of the workers
    slow = []
    for workers in (0, 2):
        engine.manual_seed(11)
        slow.append(list(DataLoader(NoFastPath(ds), batch_size=10, shuffle=True, num_workers=workers)))
    assert_batches_equal(slow[0], slow[1])
    # same labels either way; the images agree in where they come from, not pixel for pixel
    assert [b[1].tolist() for b in slow[0]] == [b[1].tolist() for b in runs[0]]


def test_image_fast_path_crops_are_windows_of_the_padded_images():
    images, _ = image_data(n=40, size=10)
    ds = ImageArrayDataset(images, list(range(40)),
                           T.Compose([T.RandomCrop(10, padding=3), T.RandomHorizontalFlip(), T.PILToTensor()]))
    flips = 0
    for x, idx in DataLoader(ds, batch_size=8, shuffle=True):
        for img, i in zip(x.numpy(), idx.tolist()):
            padded = np.pad(images[i], ((3, 3), (3, 3), (0, 0))).transpose(2, 0, 1)
            windows = [padded[:, a:a + 10, b:b + 10] for a in range(7) for b in range(7)]
            plain = any(np.array_equal(img, w) for w in windows)
            mirrored = any(np.array_equal(img[:, :, ::-1], w) for w in windows)
            assert plain or mirrored
            flips += mirrored and not plain
    assert 5 <= flips <= 35


def test_cuda_tensors_collate_and_fast_path_on_their_device(fake_cuda):
    x = engine.arange(12.0).reshape(6, 2).to("cuda:0")
    ds = TensorDataset(x, engine.arange(6))
    fast = list(DataLoader(ds, batch_size=4))
    slow = list(DataLoader(NoFastPath(ds), batch_size=4))
    for f, s in zip(fast, slow):
        assert f[0].device == s[0].device == engine.device("cuda:0")
        np.testing.assert_array_equal(f[0].cpu().numpy(), s[0].cpu().numpy())
        np.testing.assert_array_equal(f[1].numpy(), s[1].numpy())
