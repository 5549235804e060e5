"""Downloading a dataset for the GUI: the files a dataset needs, fetched with progress and cancellation.

The transfer is the engine's ``download_url`` with a progress callback that also carries Cancel; the file
names, URLs and MD5 sums come from the dataset classes, and ``finish`` lets the class itself find (and for
CIFAR-10 unpack) the files. A file lands in place only whole and verified.
"""

import os
import urllib.error
from dataclasses import dataclass
from urllib.parse import urlparse

from engine.graph import DATASETS
from engine.vision import datasets as vision_datasets
from engine.vision.datasets.utils import check_integrity, download_url, resolve_root

FASHION_MNIST_SYSTEM_FOLDER = "/usr/share/datasets/fashion-mnist"


class DownloadCancelled(Exception):
    pass


@dataclass(frozen=True)
class RemoteFile:
    urls: tuple  # tried in order
    folder: str
    filename: str
    md5: str | None = None

    @property
    def path(self):
        return os.path.join(self.folder, self.filename)


def dataset_files(dataset, root=None, base_url=None):
    """The files the dataset named ``dataset`` (a key of ``DATASETS``) downloads into ``root``; ``base_url``
    replaces the official mirrors (a local copy, a test server)."""
    info = DATASETS[dataset]
    cls = getattr(vision_datasets, info.vision_class)
    root = resolve_root(root)
    if info.vision_class == "ImageFolder":
        raise ValueError("an image folder cannot be downloaded: choose the folder that holds it")
    if hasattr(cls, "tgz_md5"):  # CIFAR-10: one archive, unpacked by the class
        url = base_url.rstrip("/") + "/" + cls.filename if base_url else cls.url
        return [RemoteFile((url,), root, cls.filename, cls.tgz_md5)]
    folder = os.path.join(root, cls.__name__, "raw")
    mirrors = [base_url.rstrip("/") + "/"] if base_url else list(cls.mirrors)
    return [RemoteFile(tuple(m + name for m in mirrors), folder, name, md5) for name, md5 in cls.resources]


def fetch(remote, progress=None, cancelled=lambda: False, timeout=30):
    """Download ``remote`` (trying its URLs in turn) unless it is already there and verified; returns its path.
    ``progress(received, total)`` is called as bytes arrive (total None when unknown); ``cancelled()`` true
    abandons the transfer with ``DownloadCancelled``."""
    if check_integrity(remote.path, remote.md5):
        return remote.path

    def report(received, total):
        if cancelled():
            raise DownloadCancelled
        if progress is not None:
            progress(received, total)

    errors = []
    for url in remote.urls:
        try:
            return download_url(url, remote.folder, remote.filename, remote.md5, progress=report, timeout=timeout)
        except (urllib.error.URLError, OSError) as e:
            errors.append((url, e))
    if len(errors) == 1:
        raise errors[0][1]
    raise OSError("; ".join(f"{url}: {e}" for url, e in errors)) from errors[-1][1]


def finish(dataset, root=None):
    """Let the dataset class take the downloaded files (CIFAR-10 unpacks its archive) and check they load."""
    cls = getattr(vision_datasets, DATASETS[dataset].vision_class)
    for train in (True, False):
        cls(resolve_root(root), train=train, download=True)


def unreachable(error):
    """Whether ``error`` means the server could not be reached at all (no network, refused, timed out),
    rather than that it answered badly."""
    if isinstance(error, urllib.error.HTTPError):
        return False
    return isinstance(error, (urllib.error.URLError, ConnectionError, TimeoutError)) or (
        isinstance(error, OSError) and isinstance(error.__cause__, (urllib.error.URLError, ConnectionError)))


def host_of(remote):
    return urlparse(remote.urls[0]).netloc


def offline_advice():
    """What to do without a network: Fashion-MNIST ships in a Debian package."""
    installed = os.path.isdir(FASHION_MNIST_SYSTEM_FOLDER)
    where = (f"it is installed on this computer ({FASHION_MNIST_SYSTEM_FOLDER})" if installed else
             "install Debian's package with: sudo apt install dataset-fashion-mnist")
    return ("Fashion-MNIST needs no download: " + where + ". Open the 'MLP (Fashion-MNIST)' template, or choose "
            "Fashion-MNIST as the dataset of a network with 1×28×28 inputs.")
