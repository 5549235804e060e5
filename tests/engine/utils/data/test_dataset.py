"""TensorDataset, Subset, ConcatDataset, ChainDataset and random_split."""

import pytest
from data_support import Range, Stream

import engine
from engine.utils.data import ChainDataset, ConcatDataset, Subset, TensorDataset, random_split


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
