"""Fetching one batch from a dataset. A map-style dataset may define ``__getbatch__(indices)`` (our
extension beside PyTorch's ``__getitems__``): the collated batch, or ``NotImplemented`` to decline; with
``default_collate`` the loader calls it instead of collating sample by sample."""

import itertools

from .collate import default_collate


class _Fetcher:
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        self.dataset = dataset
        self.auto_collation = auto_collation
        self.collate_fn = collate_fn
        self.drop_last = drop_last


class _MapFetcher(_Fetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
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


class _IterableFetcher(_Fetcher):
    def __init__(self, dataset, auto_collation, collate_fn, drop_last):
        super().__init__(dataset, auto_collation, collate_fn, drop_last)
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
