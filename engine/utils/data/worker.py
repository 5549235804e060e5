"""The loader's worker threads and per-thread state. Workers are threads (NumPy and Pillow release the
GIL in their heavy parts); batch ``k`` of an epoch draws from a generator seeded by ``(base_seed, k)``
(``current_rng``), so a loader gives the same batches with any number of workers."""

import queue
import threading
import traceback

import numpy as np

from ... import random as _random
from .fetch import _make_fetcher

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


def _fetch_with_seed(fetcher, index, seed):
    previous = getattr(_local, "batch_seed", None)
    _local.batch_seed = seed
    try:
        return fetcher.fetch(index)
    finally:
        _local.batch_seed = previous


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
