"""Resuming a sampler's or a loader's pass from its state: the same order, the same per-batch random numbers,
with any number of workers, and the batches already done are never loaded."""

import numpy as np
import pytest

import engine
from engine.utils.data import (
    BatchSampler,
    DataLoader,
    Dataset,
    RandomSampler,
    SequentialSampler,
    SubsetRandomSampler,
    WeightedRandomSampler,
    current_rng,
)


@pytest.mark.parametrize("make", [
    lambda: RandomSampler(range(30)),
    lambda: RandomSampler(range(30), generator=engine.Generator().manual_seed(5)),
    lambda: RandomSampler(range(30), replacement=True, num_samples=50),
    lambda: SubsetRandomSampler(list(range(10, 40))),
    lambda: WeightedRandomSampler([1.0, 2.0, 3.0, 4.0] * 5, 25),
])
def test_a_random_sampler_replays_its_pass_from_its_state(make):
    sampler = make()
    engine.manual_seed(0)
    order = list(sampler)
    state = sampler.state_dict()
    engine.manual_seed(123)
    sampler.load_state_dict(state)
    assert list(sampler) == order
    assert list(sampler) != order  # only the next pass replays


def test_a_batch_sampler_passes_the_state_of_its_sampler_and_a_plain_one_has_none():
    inner = RandomSampler(range(20))
    batches = BatchSampler(inner, 6, False)
    order = list(batches)
    assert batches.state_dict() == inner.state_dict() != {}
    batches.load_state_dict(batches.state_dict())
    assert list(batches) == order
    assert BatchSampler(SequentialSampler(range(5)), 2, False).state_dict() == {}


class Noisy(Dataset):
    def __init__(self, n):
        self.n, self.loaded = n, []

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.loaded.append(i)
        return engine.tensor(np.float32(i) + current_rng().standard_normal(2).astype(np.float32))


@pytest.mark.parametrize("workers", [0, 2])
def test_a_loader_resumes_its_pass_with_the_same_batches_and_random_numbers(workers):
    data = Noisy(50)
    loader = DataLoader(data, batch_size=7, shuffle=True, num_workers=workers)
    engine.manual_seed(9)
    batches = iter(loader)
    done = [next(batches).numpy() for _ in range(3)]
    state = loader.state_dict()
    rest = [b.numpy() for b in batches]
    assert state["batches"] == 3 and len(done) + len(rest) == 8
    data.loaded.clear()
    loader.load_state_dict(state)
    again = [b.numpy() for b in loader]
    assert len(again) == 5 and all(np.array_equal(a, b) for a, b in zip(rest, again))
    assert len(data.loaded) == 50 - 3 * 7  # the three batches done were not loaded again


def test_an_iterable_dataset_pass_cannot_be_resumed_mid_way():
    class Stream(engine.utils.data.IterableDataset):
        def __iter__(self):
            return iter(range(10))

    loader = DataLoader(Stream(), batch_size=2)
    with pytest.raises(ValueError, match="only a map-style dataset's pass can be resumed"):
        loader.load_state_dict({"base_seed": 1, "sampler": {}, "batches": 2})
