"""``torch.utils.data``: datasets, samplers, collation and the ``DataLoader``.

Names, arguments, defaults and errors follow PyTorch. Two things differ in how they work, not in what
they return:

Workers are threads. With ``num_workers > 0`` batches are prepared by that many threads (NumPy and
Pillow release the GIL in their heavy parts), at most ``num_workers * prefetch_factor`` batches ahead,
and delivered in sampler order. The threads stop when the iterator is exhausted, closed
(``iterator.close()``) or garbage-collected, and when a worker raises: the exception is re-raised in the
main thread with the worker's traceback in its message. ``persistent_workers`` is accepted and
validated; threads are cheap to start, so every epoch starts its own.

Randomness in a loader is reproducible and independent of ``num_workers``. Each epoch draws a base seed
from ``generator`` (or the engine's default generator, so ``engine.manual_seed`` fixes it), and batch
``k`` of the epoch gets its own NumPy generator seeded from ``(base_seed, k)``. Random transforms draw
from :func:`current_rng`, which is that batch generator while a loader prepares a batch and the
engine's default generator elsewhere. So the same seed gives the same batches with any number of
workers.

The batched fast path (our extension, beside PyTorch's ``__getitems__``): a map-style dataset may
define ``__getbatch__(indices)``, taking a list of int indices and returning exactly what
``default_collate([dataset[i] for i in indices])`` would return, or ``NotImplemented`` to decline
for this call. When the loader collates with ``default_collate`` (the default), it calls
``__getbatch__`` instead of looping over samples in Python. :class:`TensorDataset` implements it
with one fancy-indexing gather per tensor, :class:`Subset` forwards it, and
:class:`ImageArrayDataset` gathers the images of a batch at once and runs its transform over the
whole batch when every step of the transform offers a batched form (see
``engine.vision.transforms.apply_batch``). Another in-memory image dataset opts in by defining
``__getbatch__`` as ``return image_batch(self.data, self.targets, indices, self.transform,
self.target_transform)``.
"""

import bisect
import collections.abc
import copy
import itertools
import math
import queue
import threading
import traceback
import warnings

import numpy as np

from .. import random as _random
from ..backend import CPU
from ..creation import tensor as _tensor
from ..ops.shape import stack as _stack
from ..tensor import Tensor, make_tensor

__all__ = [
    "BatchSampler",
    "ChainDataset",
    "ConcatDataset",
    "DataLoader",
    "Dataset",
    "ImageArrayDataset",
    "IterableDataset",
    "RandomSampler",
    "Sampler",
    "SequentialSampler",
    "Subset",
    "SubsetRandomSampler",
    "TensorDataset",
    "WeightedRandomSampler",
    "WorkerInfo",
    "current_rng",
    "default_collate",
    "default_convert",
    "get_worker_info",
    "image_batch",
    "random_split",
]


# ----------------------------------------------------------------------------------------------------
# Per-thread state: worker info and the random generator of the batch being prepared
# ----------------------------------------------------------------------------------------------------

_local = threading.local()


class WorkerInfo:
    """What :func:`get_worker_info` returns inside a worker thread: ``id``, ``num_workers``, ``seed``,
    ``dataset``."""

    def __init__(self, id, num_workers, seed, dataset):
        self.id = id
        self.num_workers = num_workers
        self.seed = seed
        self.dataset = dataset

    def __repr__(self):
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info():
    """The :class:`WorkerInfo` of the calling worker thread, or ``None`` outside the loader's workers."""
    return getattr(_local, "worker_info", None)


class _BatchSeed:
    """The generator of one batch, made on first use (most batches of a plain dataset never ask)."""

    __slots__ = ("_rng", "key")

    def __init__(self, base_seed, index):
        self.key = (base_seed, index)
        self._rng = None

    def rng(self):
        if self._rng is None:
            self._rng = np.random.default_rng(self.key)
        return self._rng


def current_rng():
    """The NumPy generator random transforms draw from.

    While a :class:`DataLoader` prepares a batch (in the main thread or a worker) it is that batch's
    generator, seeded from the epoch's base seed and the batch number; elsewhere it is the engine's
    default CPU generator, which ``engine.manual_seed`` reseeds.
    """
    seed = getattr(_local, "batch_seed", None)
    if seed is not None:
        return seed.rng()
    return _random.default_generator.rng()


# ----------------------------------------------------------------------------------------------------
# Datasets
# ----------------------------------------------------------------------------------------------------

class Dataset:
    """A map-style dataset: subclasses define ``__getitem__`` (and usually ``__len__``).

    Optional batched accessors: ``__getitems__(indices)`` returns a list of samples (PyTorch's), and
    ``__getbatch__(indices)`` returns the collated batch (ours; see the module docstring).
    """

    def __getitem__(self, index):
        raise NotImplementedError("Subclasses of Dataset should implement __getitem__.")

    def __add__(self, other):
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """A dataset that is an iterable of samples; subclasses define ``__iter__``.

    With ``num_workers > 0`` every worker thread iterates its own ``iter(dataset)``; use
    :func:`get_worker_info` inside ``__iter__`` to give each worker a share, as with PyTorch.
    """

    def __iter__(self):
        raise NotImplementedError("Subclasses of IterableDataset should implement __iter__.")

    def __add__(self, other):
        return ChainDataset([self, other])


def _cpu_plain(t):
    return t._device is CPU and not t._requires_grad


class TensorDataset(Dataset):
    """Samples are ``tuple(t[index] for t in tensors)``; the tensors share their first dimension."""

    def __init__(self, *tensors):
        if not all(tensors[0].size(0) == t.size(0) for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].size(0)

    def __getbatch__(self, indices):
        """The collated batch of ``indices``: one gather per tensor (what ``default_collate`` makes)."""
        idx = np.asarray(indices, dtype=np.int64)
        out = []
        for t in self.tensors:
            if _cpu_plain(t):
                out.append(make_tensor(t._data[idx], CPU))
            else:
                out.append(t[_tensor(idx, device=t.device)])
        return out


class ConcatDataset(Dataset):
    """The concatenation of several map-style datasets."""

    @staticmethod
    def cumsum(sequence):
        r, s = [], 0
        for e in sequence:
            s += len(e)
            r.append(s)
        return r

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if len(self.datasets) == 0:
            raise AssertionError("datasets should not be an empty iterable")
        for d in self.datasets:
            if isinstance(d, IterableDataset):
                raise AssertionError("ConcatDataset does not support IterableDataset")
        self.cumulative_sizes = self.cumsum(self.datasets)

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        dataset_idx = bisect.bisect_right(self.cumulative_sizes, idx)
        sample_idx = idx if dataset_idx == 0 else idx - self.cumulative_sizes[dataset_idx - 1]
        return self.datasets[dataset_idx][sample_idx]


class ChainDataset(IterableDataset):
    """The chaining of several iterable datasets, one after another."""

    def __init__(self, datasets):
        self.datasets = datasets

    def __iter__(self):
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            yield from d

    def __len__(self):
        total = 0
        for d in self.datasets:
            if not isinstance(d, IterableDataset):
                raise AssertionError("ChainDataset only supports IterableDataset")
            total += len(d)
        return total


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = indices

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __getitems__(self, indices):
        if callable(getattr(self.dataset, "__getitems__", None)):
            return self.dataset.__getitems__([self.indices[idx] for idx in indices])
        return [self.dataset[self.indices[idx]] for idx in indices]

    def __getbatch__(self, indices):
        getbatch = getattr(self.dataset, "__getbatch__", None)
        if getbatch is None:
            return NotImplemented
        return getbatch([int(self.indices[idx]) for idx in indices])

    def __len__(self):
        return len(self.indices)


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping :class:`Subset` s of the given lengths (or fractions).

    Fractions summing to 1 become ``floor(len * frac)`` each, with the remainder handed out one by one
    round-robin, as PyTorch does. ``generator`` defaults to the engine's default generator.
    """
    lengths = list(lengths)
    n = len(dataset)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        subset_lengths = []
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"Fraction at index {i} is not between 0 and 1")
            subset_lengths.append(math.floor(n * frac))
        remainder = n - sum(subset_lengths)
        for i in range(remainder):
            subset_lengths[i % len(subset_lengths)] += 1
        lengths = subset_lengths
        for i, length in enumerate(lengths):
            if length == 0:
                warnings.warn(f"Length of split at index {i} is 0. This might result in an empty dataset.",
                              stacklevel=2)
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    gen = generator if generator is not None else _random.default_generator
    indices = gen.rng().permutation(sum(lengths)).tolist()
    return [Subset(dataset, indices[offset - length:offset])
            for offset, length in zip(itertools.accumulate(lengths), lengths)]


# ----------------------------------------------------------------------------------------------------
# In-memory image arrays (the batched transform path)
# ----------------------------------------------------------------------------------------------------

def _python_scalar(value):
    if isinstance(value, Tensor):
        return value.item()
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    return value


def _target_batch(targets, idx):
    """``targets[idx]`` as the array ``default_collate`` makes of their Python scalars, or None if they are
    not plain numbers."""
    if isinstance(targets, Tensor):
        arr = targets._host()[idx]
    elif isinstance(targets, np.ndarray):
        arr = targets[idx]
    else:
        arr = np.array([_python_scalar(targets[i]) for i in idx.tolist()])
    if arr.ndim != 1:
        return None
    if arr.dtype.kind == "b":
        return arr.astype(np.bool_, copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64, copy=False)
    return None


def _to_pil(img):
    from PIL import Image

    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return Image.fromarray(img)


def image_batch(images, targets, indices, transform=None, target_transform=None):
    """The collated batch ``[images, targets]`` of an in-memory image dataset, or ``NotImplemented``.

    ``images`` is an array (N, H, W, C) or (N, H, W) whose samples the dataset hands to ``transform`` as
    PIL images (as torchvision's CIFAR10 and MNIST do); ``targets`` a sequence of numbers. The images
    of the batch are gathered at once and ``transform`` runs over the whole batch when every step of it
    has a batched form and the result is tensor-shaped; otherwise (or with an unusual ``targets``) the
    answer is ``NotImplemented`` and the loader falls back to one sample at a time.
    """
    idx = np.asarray(indices, dtype=np.int64)
    if isinstance(images, Tensor):
        images = images._host()
    if transform is None:
        batch = images[idx]
    else:
        from ..vision import transforms as T

        if not T.is_batchable(transform):
            return NotImplemented
        try:
            batch, channels_last = T.apply_batch(transform, images[idx], current_rng(), return_layout=True)
        except NotImplementedError:
            return NotImplemented
        if channels_last:
            return NotImplemented  # the per-sample result would be PIL images, which do not collate
    if target_transform is None:
        t = _target_batch(targets, idx)
        if t is None:
            return NotImplemented
        target_batch = make_tensor(t, CPU)
    else:
        target_batch = default_collate([target_transform(_python_scalar(targets[i])) for i in indices])
    return [make_tensor(np.ascontiguousarray(batch), CPU), target_batch]


class ImageArrayDataset(Dataset):
    """Images held in memory as one uint8 array, with their targets; transforms run per batch when they can.

    ``images`` is (N, H, W, C) or (N, H, W); sample ``i`` is ``(transform(PIL image), target)``, with
    the image as the raw array when ``transform`` is None (so batches collate to uint8 tensors). With a
    transform made only of steps that have a batched form (``Compose`` of ``RandomCrop``,
    ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``, ...), a :class:`DataLoader` builds whole
    batches through :meth:`__getbatch__` without a Python loop per sample.
    """

    def __init__(self, images, targets, transform=None, target_transform=None):
        if isinstance(images, Tensor):
            images = images._host()
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise ValueError(f"images should be (N, H, W) or (N, H, W, C), got shape {images.shape}")
        if len(targets) != len(images):
            raise ValueError(f"{len(images)} images but {len(targets)} targets")
        self.data = images
        self.targets = targets
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], _python_scalar(self.targets[index])
        if self.transform is not None:
            img = self.transform(_to_pil(img))
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getbatch__(self, indices):
        return image_batch(self.data, self.targets, indices, self.transform, self.target_transform)


# ----------------------------------------------------------------------------------------------------
# Collation
# ----------------------------------------------------------------------------------------------------

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _is_string_dtype(dtype):
    return dtype.kind in "USOV"


def _stack_tensors(batch):
    if all(isinstance(t, Tensor) and _cpu_plain(t) for t in batch):
        shape = batch[0]._data.shape
        dtype = batch[0]._data.dtype
        if all(t._data.shape == shape and t._data.dtype == dtype for t in batch):
            return make_tensor(np.stack([t._data for t in batch]), CPU)
    return _stack(batch, 0)


def default_collate(batch):
    """Merge a list of samples into a batch, as ``torch.utils.data.default_collate``.

    Tensors are stacked; NumPy arrays and NumPy scalars become tensors; Python floats a float64 tensor,
    ints an int64 tensor (bools a bool tensor); strings stay a list; mappings, namedtuples and
    sequences are collated element-wise (a tuple becomes a list, as in PyTorch).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return _stack_tensors(batch)
    if isinstance(elem, np.ndarray):
        if _is_string_dtype(elem.dtype):
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        if all(isinstance(b, np.ndarray) and b.shape == elem.shape and b.dtype == elem.dtype for b in batch):
            arr = np.stack(batch)
            if arr.dtype.isnative:
                return make_tensor(arr, CPU)
        return default_collate([_tensor(b) for b in batch])
    if isinstance(elem, np.generic):
        if _is_string_dtype(elem.dtype):
            raise TypeError(default_collate_err_msg_format.format(elem.dtype))
        return make_tensor(np.array(batch), CPU)
    if isinstance(elem, float):
        return make_tensor(np.array(batch, dtype=np.float64), CPU)
    if isinstance(elem, bool):
        return _tensor(batch)
    if isinstance(elem, int):
        if all(type(b) is int for b in batch):
            return make_tensor(np.array(batch, dtype=np.int64), CPU)
        return _tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)
                clone.update({key: default_collate([d[key] for d in batch]) for key in elem})
                return clone
            return type(elem)({key: default_collate([d[key] for d in batch]) for key in elem})
        except TypeError:
            return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(samples)) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        elem_size = len(next(it))
        if not all(len(e) == elem_size for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = [list(samples) for samples in zip(*batch)]
        if isinstance(elem, tuple):
            return [default_collate(samples) for samples in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, samples in enumerate(transposed):
                    clone[i] = default_collate(samples)
                return clone
            return type(elem)([default_collate(samples) for samples in transposed])
        except TypeError:
            return [default_collate(samples) for samples in transposed]
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def default_convert(data):
    """Convert NumPy arrays (not strings) in ``data`` to tensors, recursively; used without batching."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray):
        if _is_string_dtype(data.dtype):
            return data
        return _tensor(data) if not data.dtype.isnative else make_tensor(data, CPU)
    if isinstance(data, np.generic):
        if _is_string_dtype(data.dtype):
            return data
        return make_tensor(np.asarray(data), CPU)
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update({key: default_convert(data[key]) for key in data})
                return clone
            return type(data)({key: default_convert(data[key]) for key in data})
        except TypeError:
            return {key: default_convert(data[key]) for key in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return type(data)([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


# ----------------------------------------------------------------------------------------------------
# Samplers
# ----------------------------------------------------------------------------------------------------

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


class RandomSampler(Sampler):
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
        rng = _seeded_rng(self.generator)
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


class SubsetRandomSampler(Sampler):
    """The given ``indices`` in a random order."""

    def __init__(self, indices, generator=None):
        self.indices = indices
        self.generator = generator

    def __iter__(self):
        rng = _seeded_rng(self.generator)
        for i in rng.permutation(len(self.indices)).tolist():
            yield self.indices[i]

    def __len__(self):
        return len(self.indices)


class WeightedRandomSampler(Sampler):
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
        rng = _seeded_rng(self.generator)
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

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return (len(self.sampler) + self.batch_size - 1) // self.batch_size


class _InfiniteConstantSampler(Sampler):
    """What an iterable dataset's loader iterates: ``None`` forever."""

    def __iter__(self):
        while True:
            yield None


# ----------------------------------------------------------------------------------------------------
# Fetching one batch
# ----------------------------------------------------------------------------------------------------

class _MapFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        getbatch = getattr(dataset, "__getbatch__", None)
        self.getbatch = getbatch if auto_collation and collate_fn is default_collate and callable(getbatch) else None
        getitems = getattr(dataset, "__getitems__", None)
        self.getitems = getitems if callable(getitems) else None

    def fetch(self, index):
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.getbatch is not None:
            data = self.getbatch(index)
            if data is not NotImplemented:
                return data
        if self.getitems is not None:
            data = self.getitems(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.batch_size = None
        self.iterator = None
        self.ended = False

    def fetch(self, index):
        if self.ended:
            raise StopIteration
        if self.iterator is None:
            self.iterator = iter(self.dataset)
        if self.auto_collation:
            data = list(itertools.islice(self.iterator, self.batch_size))
            if not data or (self.drop_last and len(data) < self.batch_size):
                self.ended = True
                raise StopIteration
            if len(data) < self.batch_size:
                self.ended = True
        else:
            try:
                data = next(self.iterator)
            except StopIteration:
                self.ended = True
                raise
        return self.collate_fn(data)


def _make_fetcher(loader):
    cls = _IterableFetcher if loader._dataset_kind == "iterable" else _MapFetcher
    fetcher = cls(loader.dataset, loader._auto_collation, loader.collate_fn, loader.drop_last)
    if cls is _IterableFetcher:
        fetcher.batch_size = loader.batch_size
    return fetcher


def _fetch_with_seed(fetcher, index, seed):
    previous = getattr(_local, "batch_seed", None)
    _local.batch_seed = seed
    try:
        return fetcher.fetch(index)
    finally:
        _local.batch_seed = previous


# ----------------------------------------------------------------------------------------------------
# DataLoader
# ----------------------------------------------------------------------------------------------------

class DataLoader:
    """Iterates a dataset in batches, as ``torch.utils.data.DataLoader`` (workers are threads; see the
    module docstring)."""

    _initialized = False

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None, num_workers=0,
                 collate_fn=None, pin_memory=False, drop_last=False, timeout=0, worker_init_fn=None,
                 multiprocessing_context=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False, pin_memory_device="", in_order=True):
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in {False, None}:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, "
                                 f"but got shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, "
                                 f"but got sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, "
                                 f"but got batch_sampler={batch_sampler}")
        else:
            shuffle = bool(shuffle)
            self._dataset_kind = "map"

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")

        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with "
                             "drop_last")

        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)

        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator

        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn
        self.persistent_workers = persistent_workers
        self._initialized = True

    def __setattr__(self, attr, val):
        if self._initialized and attr in ("batch_size", "batch_sampler", "sampler", "drop_last", "dataset",
                                          "persistent_workers"):
            raise ValueError(f"{attr} attribute should not be set after {self.__class__.__name__} is initialized")
        super().__setattr__(attr, val)

    @property
    def _auto_collation(self):
        return self.batch_sampler is not None

    @property
    def _index_sampler(self):
        return self.batch_sampler if self._auto_collation else self.sampler

    def __iter__(self):
        if self.num_workers == 0:
            return _SingleThreadIter(self)
        return _ThreadedIter(self)

    def __len__(self):
        if self._dataset_kind == "iterable":
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)


class _BaseIter:
    def __init__(self, loader):
        self._loader = loader
        self._sampler_iter = iter(loader._index_sampler)
        gen = loader.generator if loader.generator is not None else _random.default_generator
        self._base_seed = int(gen.rng().integers(0, 2**63 - 1))
        self._num_yielded = 0

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def close(self):
        """Stop early: release the workers (if any); later ``next`` raises StopIteration."""


class _SingleThreadIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        self._fetcher = _make_fetcher(loader)
        self._done = False

    def __next__(self):
        if self._done:
            raise StopIteration
        try:
            index = next(self._sampler_iter)
            data = _fetch_with_seed(self._fetcher, index, _BatchSeed(self._base_seed, self._num_yielded))
        except StopIteration:
            self._done = True
            raise
        self._num_yielded += 1
        return data

    def close(self):
        self._done = True


class _Exhausted:
    """A worker's answer when its iterable dataset has run out."""


class _ExceptionWrapper:
    """An exception caught in a worker, with the worker's traceback as text."""

    def __init__(self, exc_info, where):
        self.exc_type = exc_info[0]
        self.exc_msg = "".join(traceback.format_exception(*exc_info))
        self.where = where

    def reraise(self):
        msg = f"Caught {self.exc_type.__name__} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


class _KeyErrorMessage(str):
    """KeyError quotes its message with repr; this keeps the traceback readable."""

    def __repr__(self):
        return self


class _WorkerShared:
    """What the worker threads see: deliberately no reference to the iterator, so that dropping the
    iterator collects it and its ``__del__`` stops the threads."""

    def __init__(self, num_workers):
        self.task_queues = [queue.SimpleQueue() for _ in range(num_workers)]
        self.results = {}
        self.cond = threading.Condition()
        self.stop = threading.Event()


def _worker_loop(shared, worker_id, loader, base_seed):
    task_queue = shared.task_queues[worker_id]
    _local.worker_info = WorkerInfo(id=worker_id, num_workers=loader.num_workers, seed=base_seed + worker_id,
                                    dataset=loader.dataset)
    where = f"in DataLoader worker thread {worker_id}"
    init_error = None
    fetcher = _make_fetcher(loader)
    if loader.worker_init_fn is not None:
        try:
            loader.worker_init_fn(worker_id)
        except BaseException as e:
            init_error = _ExceptionWrapper((type(e), e, e.__traceback__), where)
    exhausted = False
    while True:
        task = task_queue.get()
        if task is None or shared.stop.is_set():
            break
        task_idx, index = task
        if init_error is not None:
            data = init_error
        elif exhausted:
            data = _Exhausted
        else:
            try:
                data = _fetch_with_seed(fetcher, index, _BatchSeed(base_seed, task_idx))
            except StopIteration:
                exhausted = True
                data = _Exhausted
            except BaseException as e:
                data = _ExceptionWrapper((type(e), e, e.__traceback__), where)
        with shared.cond:
            shared.results[task_idx] = data
            shared.cond.notify_all()
    _local.worker_info = None


class _ThreadedIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        n = loader.num_workers
        self._shared = _WorkerShared(n)
        self._max_outstanding = max(1, n * loader.prefetch_factor)
        self._active = [True] * n
        self._next_worker = itertools.cycle(range(n))
        self._send_idx = 0
        self._rcvd_idx = 0
        self._task_worker = {}
        self._sampler_done = False
        self._shutdown = False
        self._threads = []
        for wid in range(n):
            t = threading.Thread(target=_worker_loop, args=(self._shared, wid, loader, self._base_seed),
                                 name=f"DataLoader worker {wid}", daemon=True)
            t.start()
            self._threads.append(t)
        self._try_put_tasks()

    def _try_put_tasks(self):
        n = len(self._active)
        while not self._sampler_done and self._send_idx - self._rcvd_idx < self._max_outstanding:
            if not any(self._active):
                return
            for _ in range(n):
                wid = next(self._next_worker)
                if self._active[wid]:
                    break
            try:
                index = next(self._sampler_iter)
            except StopIteration:
                self._sampler_done = True
                return
            self._task_worker[self._send_idx] = wid
            self._shared.task_queues[wid].put((self._send_idx, index))
            self._send_idx += 1

    def _wait_result(self):
        shared = self._shared
        timeout = self._loader.timeout
        with shared.cond:
            while True:
                if self._loader.in_order:
                    key = self._rcvd_idx if self._rcvd_idx in shared.results else None
                else:
                    key = next(iter(shared.results), None)
                if key is not None:
                    return key, shared.results.pop(key)
                if not shared.cond.wait(timeout if timeout > 0 else None):
                    break
        self._shutdown_workers()  # outside the lock: the workers take it to post their last results
        raise RuntimeError(f"DataLoader timed out after {timeout} seconds")

    def __next__(self):
        while True:
            if self._shutdown or self._rcvd_idx >= self._send_idx:
                self._shutdown_workers()
                raise StopIteration
            key, data = self._wait_result()
            wid = self._task_worker.pop(key)
            self._rcvd_idx += 1
            if data is _Exhausted:
                self._active[wid] = False
                self._try_put_tasks()
                continue
            if isinstance(data, _ExceptionWrapper):
                self._shutdown_workers()
                data.reraise()
            self._try_put_tasks()
            self._num_yielded += 1
            return data

    def _shutdown_workers(self):
        if self._shutdown:
            return
        self._shutdown = True
        shared = self._shared
        shared.stop.set()
        for q in shared.task_queues:
            q.put(None)
        current = threading.current_thread()
        for t in self._threads:
            if t is not current:
                t.join()
        self._threads = []
        with shared.cond:
            shared.results.clear()

    def close(self):
        self._shutdown_workers()

    def __del__(self):
        if getattr(self, "_threads", None) is not None:
            self._shutdown_workers()
