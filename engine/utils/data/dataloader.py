"""``DataLoader``: iterates a dataset in batches, in the calling thread or with worker threads.

A pass can be resumed (as torchdata's ``StatefulDataLoader``): ``state_dict()`` says where the current pass
stands (its base seed, its sampler's state, the batches yielded) and after ``load_state_dict(state)`` the next
pass continues from there, skipping the batches already done at the sampler, without loading their data,
and drawing the same per-batch random numbers as the interrupted pass would have.
"""

import collections
import itertools
import math
import threading
import weakref

from ... import random as _random
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .fetch import _make_fetcher
from .sampler import BatchSampler, RandomSampler, SequentialSampler, _InfiniteConstantSampler
from .worker import _BatchSeed, _ExceptionWrapper, _Exhausted, _fetch_with_seed, _worker_loop, _WorkerShared


class DataLoader:
    """Iterates a dataset in batches, as ``torch.utils.data.DataLoader`` (workers are threads; see
    ``worker``)."""

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
        self._resume_state = None
        self._current = None
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
        iterator = _SingleThreadIter(self) if self.num_workers == 0 else _ThreadedIter(self)
        self._current = weakref.ref(iterator)
        return iterator

    def state_dict(self):
        """Where the current (or last) pass stands; ``{}`` before the first pass."""
        iterator = self._current() if self._current is not None else None
        return {} if iterator is None else iterator.state_dict()

    def load_state_dict(self, state):
        """Make the next pass continue the one ``state`` (from ``state_dict``) describes."""
        if self._dataset_kind == "iterable" and state.get("batches"):
            raise ValueError("only a map-style dataset's pass can be resumed")
        self._resume_state = dict(state)

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
        resume, loader._resume_state = loader._resume_state, None
        index_sampler = loader._index_sampler
        if resume is not None and hasattr(index_sampler, "load_state_dict"):
            index_sampler.load_state_dict(resume.get("sampler", {}))
        self._sampler_iter = iter(index_sampler)
        gen = loader.generator if loader.generator is not None else _random.default_generator
        self._base_seed = int(gen.rng().integers(0, 2**63 - 1))
        self._num_yielded = 0
        if resume is not None:
            self._base_seed = int(resume["base_seed"])
            self._num_yielded = int(resume["batches"])
            collections.deque(itertools.islice(self._sampler_iter, self._num_yielded), maxlen=0)

    def __iter__(self):
        return self

    def __len__(self):
        return len(self._loader)

    def state_dict(self):
        state_dict = getattr(self._loader._index_sampler, "state_dict", None)
        return {"base_seed": self._base_seed, "sampler": {} if state_dict is None else state_dict(),
                "batches": self._num_yielded}

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


class _ThreadedIter(_BaseIter):
    def __init__(self, loader):
        super().__init__(loader)
        n = loader.num_workers
        self._shared = _WorkerShared(n)
        self._max_outstanding = max(1, n * loader.prefetch_factor)
        self._active = [True] * n
        self._next_worker = itertools.cycle(range(n))
        self._send_idx = self._num_yielded  # batch numbers (and so their seeds) go on from a resumed pass's
        self._rcvd_idx = self._num_yielded
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
