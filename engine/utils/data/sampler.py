"""Samplers: the orders (and batches) of indices a loader visits."""

import itertools
import json
import warnings

import numpy as np

from ... import random as _random
from ...backend import CPU
from ...tensor import Tensor, make_tensor


class Sampler:
    """Base class: an iterable over dataset indices (or over lists of indices, for a batch sampler)."""

    def __init__(self, data_source=None):
        if data_source is not None:
            warnings.warn("`data_source` argument is not used and will be removed in 2.2.0."
                          "You may still have custom implementation that utilizes it.", UserWarning, stacklevel=2)

    def __iter__(self):
        raise NotImplementedError


class SequentialSampler(Sampler):
    """``0, 1, ..., len(data_source) - 1``."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


def _seeded_rng(generator):
    """A NumPy generator for one pass of a sampler: ``generator``'s own, or a fresh one seeded by a draw
    from the default generator (so later draws elsewhere cannot interleave with this pass)."""
    if generator is not None:
        return generator.rng()
    seed = int(_random.default_generator.rng().integers(0, 2**63 - 1))
    return np.random.default_rng(seed)


class _RandomPass:
    """A sampler whose pass draws from one NumPy generator. ``state_dict`` records that generator's state at
    the start of the current pass and ``load_state_dict`` makes the next pass start from a recorded one, so a
    loader resumed mid-pass visits the same order."""

    _pass_state = None
    _next_state = None

    def _pass_rng(self):
        rng = _seeded_rng(self.generator)
        if self._next_state is not None:
            rng.bit_generator.state = self._next_state
            self._next_state = None
        self._pass_state = rng.bit_generator.state
        return rng

    def state_dict(self):
        return {} if self._pass_state is None else {"rng": json.dumps(self._pass_state)}

    def load_state_dict(self, state):
        self._next_state = json.loads(state["rng"]) if "rng" in state else None


class RandomSampler(_RandomPass, Sampler):
    """A random permutation of the indices (or ``num_samples`` draws with ``replacement``)."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(f"replacement should be a boolean value, but got replacement={self.replacement}")
        if not isinstance(self.num_samples, int) or isinstance(self.num_samples, bool) or self.num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={self.num_samples}")

    @property
    def num_samples(self):
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self):
        n = len(self.data_source)
        rng = self._pass_rng()
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from rng.integers(0, n, size=32).tolist()
            yield from rng.integers(0, n, size=self.num_samples % 32).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from rng.permutation(n).tolist()
            yield from rng.permutation(n).tolist()[:self.num_samples % n]

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(_RandomPass, Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        rng = self._pass_rng()
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(_RandomPass, Sampler):
    """``num_samples`` indices drawn with probabilities proportional to ``weights``."""

    def __init__(self, weights, num_samples, replacement=True, generator=None):
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(f"num_samples should be a positive integer value, but got num_samples={num_samples}")
        if not isinstance(replacement, bool):
            raise ValueError(f"replacement should be a boolean value, but got replacement={replacement}")
        w = np.asarray(weights._host() if isinstance(weights, Tensor) else weights, dtype=np.float64)
        if w.ndim != 1:
            raise ValueError(f"weights should be a 1d sequence but given weights have shape {tuple(w.shape)}")
        self.weights = make_tensor(w, CPU)
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self):
        w = self.weights._data
        if not self.replacement and self.num_samples > np.count_nonzero(w):
            raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
        rng = self._pass_rng()
        yield from rng.choice(len(w), size=self.num_samples, replace=self.replacement, p=w / w.sum()).tolist()

    def __len__(self):
        return self.num_samples


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self):
        it = iter(self.sampler)
        size = self.batch_size
        while True:
            batch = list(itertools.islice(it, size))
            if not batch or (self.drop_last and len(batch) < size):
                return
            yield batch
            if len(batch) < size:
                return

    def state_dict(self):
        """The state of the sampler it batches (``{}`` when that one keeps none)."""
        state_dict = getattr(self.sampler, "state_dict", None)
        return {} if state_dict is None else state_dict()

    def load_state_dict(self, state):
        load_state_dict = getattr(self.sampler, "load_state_dict", None)
        if load_state_dict is not None:
            load_state_dict(state)

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class _InfiniteConstantSampler(Sampler):
    """What an iterable dataset's loader iterates: ``None`` forever."""

    def __iter__(self):
        while True:
            yield None
