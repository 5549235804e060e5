"""STL-10, read from the binary files of the official ``stl10_binary.tar.gz``."""

import os
import urllib.error
from typing import ClassVar

import numpy as np
from PIL import Image

from ...utils.files import open_regular, read_limited
from .utils import CorruptFileError, dataset_not_found, download_url, missing_files, unpack_folder
from .verify import verify_str_arg
from .vision import VisionDataset

IMAGE_BYTES = 3 * 96 * 96
MAX_BYTES = 4 << 30  # 4 GiB: the largest file, unlabeled_X.bin, holds 2.77 GB
MAX_TEXT_BYTES = 1 << 20  # class_names.txt and fold_indices.txt hold a few KB


def _read_array(path):
    """The bytes of ``path`` as a uint8 array, allocated at the file's size (checked against the budget first)."""
    with open_regular(path, MAX_BYTES, CorruptFileError) as fh:
        size = os.fstat(fh.fileno()).st_size
        out = np.empty(size, np.uint8)
        got = fh.readinto(memoryview(out))
    if got != size:
        raise CorruptFileError(path, f"the file shrank while it was read ({got:,} of {size:,} bytes)")
    return out


def _read_text(path):
    try:
        return read_limited(path, MAX_TEXT_BYTES, CorruptFileError).decode("utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise CorruptFileError(path, f"not UTF-8 text ({e})") from None


class STL10(VisionDataset):
    """The STL-10 dataset (torchvision's ``STL10``): 96x96 colour images, 5,000 labelled training images in
    10 classes, 8,000 test images and 100,000 unlabelled ones.

    Args:
        root: the folder that holds (or will hold) ``stl10_binary``; None means the default data directory.
        split: ``"train"``, ``"test"``, ``"unlabeled"`` or ``"train+unlabeled"``.
        folds: None, or one of the 10 predefined training folds of 1,000 images (``fold_indices.txt``).
        transform / target_transform: applied to each PIL image / label.
        download: fetch ``url``, check its MD5 and unpack it into ``root`` if the split's files are not there.

    Items are ``(PIL.Image RGB, int)``, the label -1 for unlabelled images. ``data`` is an (N, 3, 96, 96)
    uint8 array (a view of an NHWC copy, so items need no further copy) and ``labels`` int64. Each file's
    size is checked against what it must hold before it is read; the per-file MD5 sums are not enforced, as
    in CIFAR10, since the content is validated as it is read.
    """

    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    class_names_file = "class_names.txt"
    folds_list_file = "fold_indices.txt"
    train_list: ClassVar[list] = [
        ["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
        ["train_y.bin", "5a34089d4802c674881badbb80307741"],
        ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"],
    ]
    test_list: ClassVar[list] = [["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"],
                                 ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"]]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root=None, split="train", folds=None, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", self.splits)
        self.folds = self._verify_folds(folds)
        if download:
            self.download()
        missing = self._missing_files()
        if missing:
            raise self._not_found(missing)
        parts = []
        if self._has_train:
            parts.append(self._select_fold(*self._load_file(self.train_list[0][0], self.train_list[1][0])))
        if "unlabeled" in self.split:
            parts.append(self._load_file(self.train_list[2][0]))
        if self.split == "test":
            parts.append(self._load_file(self.test_list[0][0], self.test_list[1][0]))
        images = np.concatenate([p[0] for p in parts]) if len(parts) > 1 else parts[0][0]
        self.data = images.transpose(0, 3, 1, 2)
        self.labels = np.concatenate([p[1] for p in parts]) if len(parts) > 1 else parts[0][1]
        class_file = os.path.join(self.folder, self.class_names_file)
        if os.path.isfile(class_file):
            self.classes = _read_text(class_file)

    @staticmethod
    def _verify_folds(folds):
        if folds is None:
            return folds
        if isinstance(folds, int):
            if folds in range(10):
                return folds
            raise ValueError(f"Value for argument folds should be in the range [0, 10), but got {folds}.")
        raise ValueError(f"Expected type None or int for argument folds, but got type {type(folds)}.")

    # ------------------------------------------------------------------ files

    @property
    def _has_train(self):
        return self.split in ("train", "train+unlabeled")

    @property
    def folder(self):
        return os.path.join(self.root, self.base_folder)

    def _split_files(self):
        names = []
        if self._has_train:
            names += [self.train_list[0][0], self.train_list[1][0]]
        if "unlabeled" in self.split:
            names.append(self.train_list[2][0])
        if self.split == "test":
            names += [name for name, _ in self.test_list]
        if self.folds is not None and self._has_train:
            names.append(self.folds_list_file)
        return names

    def _missing_files(self):
        return missing_files(self.folder, self._split_files())

    def _check_integrity(self):
        """Whether the split's files are present (their contents are checked on load)."""
        return not self._missing_files()

    def _not_found(self, missing, cause=None):
        manual = (f"download {self.url} (MD5 {self.tgz_md5}) and unpack it into {os.path.abspath(self.root)}, "
                  f"so that {os.path.join(os.path.abspath(self.folder), 'train_X.bin')} exists.")
        return dataset_not_found("STL10", missing, [self.folder], [self.url], manual, cause)

    def download(self):
        """Fetch, verify and unpack the archive unless the split's files are already in place."""
        if self._check_integrity():
            print("Files already downloaded and verified")
            return
        os.makedirs(self.root, exist_ok=True)
        try:
            archive = download_url(self.url, self.root, self.filename, self.tgz_md5)
            unpack_folder(archive, self.root, self.base_folder, self._split_files())
        except (urllib.error.URLError, OSError, CorruptFileError) as e:
            raise self._not_found(self._missing_files(), cause=e) from e

    # ------------------------------------------------------------------ reading

    def _load_file(self, data_file, labels_file=None):
        """``(images, labels)`` of a pair of files: (N, 96, 96, 3) uint8 images and int64 labels, 0-based
        (-1 without a labels file). The images are stored channel by channel, each column-major."""
        path = os.path.join(self.folder, data_file)
        raw = _read_array(path)
        if raw.size % IMAGE_BYTES:
            raise CorruptFileError(path, f"{raw.size:,} bytes is not a whole number of {IMAGE_BYTES}-byte "
                                         "96x96 RGB images; the file is truncated or corrupt")
        images = np.ascontiguousarray(raw.reshape(-1, 3, 96, 96).transpose(0, 3, 2, 1))  # N,C,W,H -> N,H,W,C
        if labels_file is None:
            return images, np.full(len(images), -1, np.int64)
        label_path = os.path.join(self.folder, labels_file)
        labels = _read_array(label_path)
        if labels.size != len(images):
            raise CorruptFileError(label_path, f"{labels.size:,} labels for the {len(images):,} images of {path}")
        if labels.size and (labels.min() < 1 or labels.max() > 10):
            raise CorruptFileError(label_path, f"labels must lie in [1, 10], found {labels.min()}..{labels.max()}")
        return images, labels.astype(np.int64) - 1

    def _select_fold(self, images, labels):
        if self.folds is None:
            return images, labels
        path = os.path.join(self.folder, self.folds_list_file)
        lines = _read_text(path)
        if len(lines) <= self.folds:
            raise CorruptFileError(path, f"{len(lines)} lines, no fold {self.folds}")
        try:
            idx = np.array(lines[self.folds].split(), dtype=np.int64)
        except ValueError:
            raise CorruptFileError(path, f"line {self.folds + 1} is not a list of integers") from None
        if idx.size and (idx.min() < 0 or idx.max() >= len(images)):
            raise CorruptFileError(path, f"fold {self.folds} indexes {idx.min()}..{idx.max()}, outside the "
                                         f"{len(images)} training images")
        return images[idx], labels[idx]

    # ------------------------------------------------------------------ items

    def __getitem__(self, index):
        img = Image.fromarray(self.data[index].transpose(1, 2, 0))
        return self._transformed(img, int(self.labels[index]))

    def __len__(self):
        return self.data.shape[0]

    def extra_repr(self):
        return f"Split: {self.split}"
