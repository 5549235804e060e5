"""The samplers and the batch sampler."""

import pytest
from data_support import Range

import engine
from engine.utils.data import (
    BatchSampler,
    DistributedSampler,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
)


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


@pytest.mark.parametrize("length", [10, 11, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_deals_as_pytorchs_without_shuffling(length, drop_last):
    torch_data = pytest.importorskip("torch.utils.data")
    for replicas in (1, 2, 4):
        for rank in range(replicas):
            ours = DistributedSampler(range(length), replicas, rank, shuffle=False, drop_last=drop_last)
            theirs = torch_data.DistributedSampler(range(length), replicas, rank, shuffle=False, drop_last=drop_last)
            assert list(ours) == list(theirs) and len(ours) == len(theirs)


@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shares_are_disjoint_and_cover_the_dataset(drop_last):
    length, replicas = 23, 4
    shares = [list(DistributedSampler(range(length), replicas, r, seed=5, drop_last=drop_last))
              for r in range(replicas)]
    assert len({len(s) for s in shares}) == 1
    every = [i for s in shares for i in s]
    if drop_last:  # cut to a multiple of the replicas: no index twice
        assert len(every) == len(set(every)) == length // replicas * replicas
    else:  # padded with the start of the permutation: all indices, and only the padding twice
        assert set(every) == set(range(length)) and len(every) == 24


def test_distributed_sampler_order_follows_seed_and_epoch():
    sampler = DistributedSampler(range(50), 2, 0, seed=1)
    first = list(sampler)
    assert first == list(DistributedSampler(range(50), 2, 0, seed=1)) != list(DistributedSampler(range(50), 2, 0))
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first


def test_distributed_sampler_errors():
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(4), num_replicas=2, rank=2)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(4))
