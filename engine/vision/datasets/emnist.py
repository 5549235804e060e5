"""EMNIST: the six splits of NIST's handwritten characters, read from the IDX files of the official gzip.zip."""

import os
import shutil
import string
import tempfile
import urllib.error
from typing import ClassVar

from .mnist import MNIST
from .utils import CorruptFileError, dataset_not_found, download_url
from .verify import verify_str_arg
from .zip_files import extract_zip

_MERGED = set("cijklmopsuvwxyz")  # letters whose upper and lower case share one class in bymerge and balanced
_ALL = set(string.digits + string.ascii_letters)


class EMNIST(MNIST):
    """Extended MNIST (torchvision's ``EMNIST``): 28x28 grayscale characters in six splits.

    Args:
        root: the folder whose ``EMNIST/raw`` holds ``emnist-<split>-<train|test>-<images|labels>-idx<3|1>-ubyte``
            (gzipped or not); None means the default data directory.
        split: ``byclass`` (62 classes), ``bymerge`` and ``balanced`` (47), ``letters`` (labels 1..26 under
            ``classes[1:]``, ``classes[0]`` is ``"N/A"``), ``digits`` or ``mnist`` (10).
        train, transform, target_transform: as in ``MNIST``.
        download: fetch ``url`` (MD5-checked), unpack it with every member checked, and keep its ``.gz`` IDX
            files in ``raw_folder``: they are read with bounded decompression, and take a quarter of the disk.

    Images are stored transposed, as NIST wrote them and as torchvision returns them.
    """

    url = "https://biometrics.nist.gov/cs_links/EMNIST/gzip.zip"
    md5 = "58c8d27c78d21e728a6bc7b3cc06412e"
    splits = ("byclass", "bymerge", "balanced", "letters", "digits", "mnist")
    classes_split_dict: ClassVar[dict] = {
        "byclass": sorted(_ALL),
        "bymerge": sorted(_ALL - _MERGED),
        "balanced": sorted(_ALL - _MERGED),
        "letters": ["N/A", *string.ascii_lowercase],
        "digits": list(string.digits),
        "mnist": list(string.digits),
    }

    def __init__(self, root, split, train=True, transform=None, target_transform=None, download=False):
        self.split = verify_str_arg(split, "split", self.splits)
        self.classes = self.classes_split_dict[self.split]
        super().__init__(root, train, transform, target_transform, download)

    @property
    def _file_prefix(self):
        return f"emnist-{self.split}-{'train' if self.train else 'test'}"

    def _split_files(self):
        return [f"{self._file_prefix}-images-idx3-ubyte", f"{self._file_prefix}-labels-idx1-ubyte"]

    def _not_found(self, cause=None, tried=None):
        del tried
        missing = [f"{name}[.gz]" for name in self._split_files()]
        manual = (f"download {self.url} (MD5 {self.md5}), unzip it and put the files of its gzip folder "
                  f"(gzipped or not) in {os.path.abspath(self.raw_folder)}.")
        return dataset_not_found("EMNIST", missing, self.search_folders, [self.url], manual, cause)

    def download(self):
        """Fetch and verify ``gzip.zip`` and move its ``.gz`` files into ``raw_folder``, each whole or not at all."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        try:
            archive = download_url(self.url, self.raw_folder, md5=self.md5)
            self._unpack(archive)
        except (urllib.error.URLError, OSError, CorruptFileError) as e:
            raise self._not_found(cause=e) from e

    def _unpack(self, archive):
        tmp = tempfile.mkdtemp(prefix=".gzip.", suffix=".tmp", dir=self.raw_folder)
        try:
            print(f"Extracting {archive} to {self.raw_folder}")
            extract_zip(archive, tmp)
            unpacked = os.path.join(tmp, "gzip")
            names = sorted(n for n in os.listdir(unpacked) if n.endswith(".gz")) if os.path.isdir(unpacked) else []
            if not names:
                raise CorruptFileError(archive, "the archive has no gzip/*.gz files")
            for name in names:
                os.replace(os.path.join(unpacked, name), os.path.join(self.raw_folder, name))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if not self._check_exists():
            raise CorruptFileError(archive, "the archive lacks gzip/" + ".gz, gzip/".join(self._split_files()) + ".gz")
