"""CIFAR-10, read from the layout of the official ``cifar-10-python.tar.gz``."""

import os
import urllib.error
from typing import ClassVar

import numpy as np
from PIL import Image

from ..image_batch import image_batch
from . import safe_pickle
from .utils import CorruptFileError, dataset_not_found, download_url, missing_files, unpack_folder
from .vision import VisionDataset


class CIFAR10(VisionDataset):
    """The CIFAR-10 dataset: 60,000 32x32 colour images in 10 classes (torchvision's ``CIFAR10``).

    Args:
        root: the folder that holds (or will hold) ``cifar-10-batches-py``; None means the default data
            directory (``$LAYERLAB_DATA`` or ``~/.cache/layerlab/data``).
        train: the 50,000 training images (``data_batch_1``..``5``) or the 10,000 test images.
        transform: applied to each PIL image; target_transform: applied to each label.
        download: fetch ``url``, check its MD5 and unpack it into ``root`` if the files are not there.

    Items are ``(PIL.Image RGB, int)``. ``data`` is the (N, 32, 32, 3) uint8 array, ``targets`` the labels.
    The batch files are unpickled with an unpickler that admits NumPy's array reconstruction only.

    Batched access: ``__getitems__(indices)`` returns the items of ``indices`` after one gather on ``data``;
    ``__getbatch__(indices)`` is the DataLoader's batched path (``engine.utils.data.fetch``: the collated batch,
    with the transform run over the whole batch when it can be); ``arrays()`` returns ``(data, targets)``
    as NumPy arrays for code that gathers and transforms batches itself.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    # The official per-file MD5 sums. They document the files but are not enforced on load: losslessly
    # rebuilt copies differ in their pickle bytes, and the content is validated as it is read instead.
    train_list: ClassVar[list] = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list: ClassVar[list] = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta: ClassVar[dict] = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48822"}
    labels_key = "labels"
    image_size = 32

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        missing = self._missing_files()
        if missing:
            raise self._not_found(missing)
        self._load_meta()
        self.data, self.targets = self._load_batches()

    # ------------------------------------------------------------------ files

    @property
    def folder(self):
        return os.path.join(self.root, self.base_folder)

    def _all_files(self):
        return [name for name, _ in self.train_list + self.test_list] + [self.meta["filename"]]

    def _missing_files(self):
        return missing_files(self.folder, self._all_files())

    def _check_integrity(self):
        """Whether every batch file and the metadata file are present (contents are checked on load)."""
        return not self._missing_files()

    def _not_found(self, missing, cause=None):
        manual = (f"download {self.url} (MD5 {self.tgz_md5}) and unpack it into {os.path.abspath(self.root)}, "
                  f"so that {os.path.join(os.path.abspath(self.folder), 'data_batch_1')} exists.")
        return dataset_not_found(self.__class__.__name__, missing, [self.folder], [self.url], manual, cause)

    def download(self):
        """Fetch, verify and unpack the archive unless the files are already in place."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        os.makedirs(self.root, exist_ok=True)
        try:
            archive = download_url(self.url, self.root, self.filename, self.tgz_md5)
            unpack_folder(archive, self.root, self.base_folder, self._all_files())
        except (urllib.error.URLError, OSError, CorruptFileError) as e:
            raise self._not_found(self._missing_files(), cause=e) from e

    # ------------------------------------------------------------------ reading

    @staticmethod
    def _get(entry, key):
        for k in (key.encode(), key):
            if k in entry:
                return entry[k]
        raise KeyError(key)

    def _load_meta(self):
        path = os.path.join(self.folder, self.meta["filename"])
        entry = safe_pickle.load(path)
        try:
            names = self._get(entry, self.meta["key"]) if isinstance(entry, dict) else None
        except KeyError:
            names = None
        if not isinstance(names, list) or not names or not all(isinstance(n, (bytes, str)) for n in names):
            raise CorruptFileError(path, f"expected a dict with a list of class names under {self.meta['key']!r}")
        self.classes = [n.decode("latin1") if isinstance(n, bytes) else n for n in names]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _load_batch(self, path):
        entry = safe_pickle.load(path)
        n_pixels = 3 * self.image_size * self.image_size
        if not isinstance(entry, dict):
            raise CorruptFileError(path, f"expected a pickled dict, found {type(entry).__name__}")
        try:
            data, labels = self._get(entry, "data"), self._get(entry, self.labels_key)
        except KeyError as e:
            raise CorruptFileError(path, f"the batch has no {e.args[0]!r} entry") from None
        if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != n_pixels:
            desc = f"{data.dtype} array of shape {data.shape}" if isinstance(data, np.ndarray) else type(data).__name__
            raise CorruptFileError(path, f"'data' must be a uint8 array of shape (N, {n_pixels}), found {desc}")
        return data, self._labels(path, labels, data.shape[0])

    def _labels(self, path, labels, count):
        """``labels`` as int64 after checking, in one pass, that they are ``count`` ints in range: a flat list
        as CIFAR writes them, or a 1-D integer array. Nothing nested is walked or converted."""
        if isinstance(labels, list) and len(labels) == count and all(type(v) is int for v in labels):
            low, high = (min(labels), max(labels)) if labels else (0, 0)
        elif isinstance(labels, np.ndarray) and labels.dtype.kind in "iu" and labels.shape == (count,):
            low, high = (int(labels.min()), int(labels.max())) if labels.size else (0, 0)
        else:
            raise CorruptFileError(path, f"'{self.labels_key}' must hold {count} integer labels")
        if low < 0 or high >= len(self.classes):
            raise CorruptFileError(path, f"labels must lie in [0, {len(self.classes) - 1}], found {low}..{high}")
        return np.array(labels, dtype=np.int64)

    def _load_batches(self):
        files = self.train_list if self.train else self.test_list
        parts = [self._load_batch(os.path.join(self.folder, name)) for name, _ in files]
        s = self.image_size
        data = np.concatenate([p[0] for p in parts]).reshape(-1, 3, s, s)
        data = np.ascontiguousarray(data.transpose(0, 2, 3, 1))  # NCHW planes -> NHWC, one copy
        targets = np.concatenate([p[1] for p in parts]).tolist()
        return data, targets

    # ------------------------------------------------------------------ items

    def _item(self, img, target):
        return self._transformed(Image.fromarray(img), target)

    def __getitem__(self, index):
        return self._item(self.data[index], self.targets[index])

    def __getitems__(self, indices):
        """The items at ``indices`` (a list of ints), gathering their pixels from ``data`` in one step."""
        batch = self.data[np.asarray(indices, dtype=np.intp)]
        targets = self.targets
        return [self._item(img, targets[i]) for img, i in zip(batch, indices)]

    def __getbatch__(self, indices):
        """The collated ``[images, targets]`` of ``indices`` for the DataLoader, or ``NotImplemented``.

        Declines (the loader then collates ``__getitems__``) without a transform, as PIL images do not
        collate, and when the transform has no batched form (see ``engine.vision.image_batch``).
        """
        if self.transform is None:
            return NotImplemented
        targets = self.targets
        labels = np.array([targets[i] for i in indices], dtype=np.int64)
        images = self.data[np.asarray(indices, dtype=np.intp)]
        return image_batch(images, labels, range(len(labels)), self.transform, self.target_transform)

    def arrays(self):
        """``(data, targets)``: the uint8 (N, H, W, C) images (shared, do not modify) and int64 labels.

        For loaders that gather and transform whole batches themselves; the dataset's ``transform`` and
        ``target_transform`` are not applied.
        """
        return self.data, np.asarray(self.targets, dtype=np.int64)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"


class CIFAR100(CIFAR10):
    """The CIFAR-100 dataset (torchvision's ``CIFAR100``): CIFAR-10's layout and rules, 100 classes; items carry
    the fine label (``fine_labels``), and ``classes`` are the fine label names."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list: ClassVar[list] = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list: ClassVar[list] = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta: ClassVar[dict] = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
    labels_key = "fine_labels"
