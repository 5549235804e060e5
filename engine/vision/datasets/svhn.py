"""SVHN (Street View House Numbers), read from the official MATLAB v5 ``.mat`` files."""

import os
import urllib.error
from typing import ClassVar

import numpy as np
from PIL import Image

from .matfile import read_mat
from .utils import CorruptFileError, dataset_not_found, download_url, missing_files
from .verify import verify_str_arg
from .vision import VisionDataset


class SVHN(VisionDataset):
    """The SVHN dataset (torchvision's ``SVHN``): 32x32 colour crops of house-number digits, 73,257 for
    training, 26,032 for testing and 531,131 extra ones.

    Args:
        root: the folder that holds (or will hold) ``<split>_32x32.mat``; None means the default data directory.
        split: ``"train"``, ``"test"`` or ``"extra"``.
        transform / target_transform: applied to each PIL image / label.
        download: fetch the split's file (MD5-checked) into ``root`` if it is not there.

    Items are ``(PIL.Image RGB, int)`` with the digit 0 labelled 0 (the files label it 10), as in
    torchvision. ``data`` is an (N, 3, 32, 32) uint8 array (a view of an NHWC copy) and ``labels`` int64.
    The file is read by ``matfile.read_mat`` rather than scipy, with every size checked; its MD5 sum is
    checked on download, not on every load, as the content is validated as it is read.
    """

    split_list: ClassVar[dict] = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root=None, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if missing_files(self.root, [self.filename]):
            raise self._not_found()
        self.data, self.labels = self._load(os.path.join(self.root, self.filename))

    def _check_integrity(self):
        """Whether the split's file is present (its content is checked on load)."""
        return os.path.isfile(os.path.join(self.root, self.filename))

    def _not_found(self, cause=None):
        manual = f"download {self.url} (MD5 {self.file_md5}) into {os.path.abspath(self.root)}."
        return dataset_not_found("SVHN", [self.filename], [self.root], [self.url], manual, cause)

    def download(self):
        """Fetch and verify the split's file unless it is already in place."""
        if self._check_integrity():
            return
        try:
            download_url(self.url, self.root, self.filename, self.file_md5)
        except (urllib.error.URLError, OSError, CorruptFileError) as e:
            raise self._not_found(cause=e) from e

    @staticmethod
    def _load(path):
        arrays = read_mat(path, ("X", "y"))
        for name in ("X", "y"):
            if name not in arrays:
                raise CorruptFileError(path, f"the file has no variable {name!r}")
        images, y = arrays["X"], arrays["y"]
        if images.dtype != np.uint8 or images.ndim != 4 or images.shape[:3] != (32, 32, 3):
            raise CorruptFileError(path, f"'X' must be a uint8 array of shape (32, 32, 3, N), found {images.dtype} "
                                         f"{images.shape}")
        n = images.shape[3]
        if y.size != n or y.ndim != 2 or 1 not in y.shape:
            raise CorruptFileError(path, f"'y' must hold the {n} labels of 'X' in one column, found shape {y.shape}")
        values = y.reshape(-1)
        if not ((values >= 1) & (values <= 10) & (values == np.round(values))).all():  # NaN fails every test
            raise CorruptFileError(path, "labels must be whole numbers in [1, 10]")
        labels = values.astype(np.int64)
        labels[labels == 10] = 0
        # (H, W, C, N) in Fortran order is (N, C, W, H) in memory: one copy to NHWC, then a (N, C, H, W) view
        nhwc = np.ascontiguousarray(images.T.transpose(0, 3, 2, 1))
        return nhwc.transpose(0, 3, 1, 2), labels

    def __getitem__(self, index):
        img = Image.fromarray(self.data[index].transpose(1, 2, 0))
        return self._transformed(img, int(self.labels[index]))

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        return f"Split: {self.split}"
