"""What the dataset of a document's Input node holds, as a run of it would see it: class names, images per
class in the training, validation and test parts of the split the settings give, and for an image folder the
files that cannot be read. It is made from the recipe's own ``load_data`` and the scan that refuses a run
(``engine.vision.datasets.scan``), so the view and the run cannot disagree.
"""

from dataclasses import dataclass

import numpy as np

from ..vision.datasets.scan import common_root, folder_datasets, unreadable_files
from .recipe import DataSplits, load_data


@dataclass
class DatasetPart:
    """One part of the split: ``dataset`` is the untransformed dataset its images come from, ``indices`` their
    positions in it, ``targets`` their class indices."""

    name: str  # "train", "validation" or "test"
    dataset: object
    indices: np.ndarray
    targets: np.ndarray
    counts: np.ndarray  # images per class

    def __len__(self):
        return len(self.indices)

    def of_class(self, index):
        """The positions in ``dataset`` of this part's images of class ``index``, in dataset order."""
        return self.indices[self.targets == index]


@dataclass
class DatasetSummary:
    name: str  # the Input node's dataset, as DATASETS names it
    data: DataSplits
    parts: tuple  # DatasetPart: train, validation (when held out of the training images), test
    full_train: int  # training images before the split and train_limit
    unreadable: list  # UnreadableFile of an image folder's train and test files; empty otherwise
    files: int  # an image folder's train and test files, all tried; 0 otherwise
    folder: str  # the folder holding an image folder's train/ and test/ (the data), or ""
    val_split: float
    seed: int

    @property
    def classes(self):
        return self.data.classes

    @property
    def is_folder(self):
        return bool(self.folder)

    def part(self, name):
        return next(p for p in self.parts if p.name == name)

    def counts(self, name):
        return self.part(name).counts

    @property
    def held_out(self):
        """Whether the validation images are a share of the training images (else the test split serves)."""
        return any(p.name == "validation" for p in self.parts)

    def split_text(self):
        """The split in words: where the validation images come from and how many each part has."""
        train, test = self.part("train"), self.part("test")
        text = f"{self.full_train:,} training images"
        available = self.full_train
        if self.held_out:
            val = self.part("validation")
            available -= len(val)
            text += (f": {val_share(self.val_split)} ({len(val):,}) held out for validation (seed {self.seed}), "
                     f"{available:,} to train on")
        else:
            text += ", all to train on"
        if len(train) < available:
            text += f" (train_limit keeps the first {len(train):,})"
        text += f". {len(test):,} test images"
        if not self.held_out:
            text += ", which also serve for validation (val_split is 0)"
        return text + f". {len(self.classes)} classes."


def val_share(fraction):
    return f"{fraction:.0%}" if round(fraction * 100, 6).is_integer() else f"{fraction:.1%}"


def _base(dataset):
    """``(dataset, positions)``: the dataset under any ``Subset``s and the positions in it they select."""
    positions = np.arange(len(dataset))
    while hasattr(dataset, "indices") and hasattr(dataset, "dataset"):
        positions = np.asarray(dataset.indices, dtype=np.int64)[positions]
        dataset = dataset.dataset
    return dataset, positions


def _part(name, dataset, num_classes):
    base, positions = _base(dataset)
    targets = np.asarray(base.targets, dtype=np.int64)[positions]
    return DatasetPart(name, base, positions, targets, np.bincount(targets, minlength=num_classes))


def summarize_dataset(network, data_dir=None, progress=None, stop=None):
    """The ``DatasetSummary`` of ``network``'s dataset; ``progress(done, total)`` and ``stop()`` follow an image
    folder's scan (see ``unreadable_files``). A missing dataset raises the recipe's errors
    (``DatasetNotFoundError``, ``FileNotFoundError`` for an image folder without its class folders)."""
    data = load_data(network, data_dir)
    n = len(data.classes)
    parts = [_part("train", data.train, n)]
    if data.val is not data.test:
        parts.append(_part("validation", data.val, n))
    parts.append(_part("test", data.test, n))
    folders = folder_datasets(data.train, data.test)
    total = sum(len(d.samples) for d in folders)
    unreadable, done = [], 0

    def advance(k, _count):
        if progress is not None:
            progress(done + k, total)

    for dataset in folders:
        unreadable += unreadable_files(dataset, advance, stop)
        done += len(dataset.samples)
    settings = network.settings
    return DatasetSummary(network.input_node().params["dataset"], data, tuple(parts),
                          len(_base(data.train)[0]), unreadable, total,
                          common_root(folders) if folders else "",
                          settings["val_split"], settings["seed"])
