"""MNIST and Fashion-MNIST, read from their IDX files (gzipped or not)."""

import os
import urllib.error
from typing import ClassVar

import numpy as np
from PIL import Image

from ...creation import from_numpy
from ..image_batch import image_batch
from .idx import read_image_file, read_label_file
from .utils import CorruptFileError, dataset_not_found, download_url
from .vision import VisionDataset


class MNIST(VisionDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grayscale images.

    Args:
        root: the folder whose ``MNIST/raw`` (``FashionMNIST/raw``, ...) holds the IDX files; None means the
            default data directory (``$LAYERLAB_DATA`` or ``~/.cache/layerlab/data``).
        train: the training split (``train-*``) or the test split (``t10k-*``).
        transform / target_transform: applied to each PIL image / label.
        download: fetch the missing files from ``mirrors`` (MD5-checked) into ``raw_folder``.

    The files are looked for in ``raw_folder`` then in ``system_folders`` (folders where an operating
    system package installs the dataset), each as ``name`` or ``name.gz``. Items are ``(PIL.Image 'L',
    int)``; ``data`` is an (N, 28, 28) uint8 tensor and ``targets`` an int64 tensor, as in torchvision.
    ``__getitems__``, ``__getbatch__`` and ``arrays()`` serve batched loaders as in ``CIFAR10``
    (``arrays()`` gives NHWC, here (N, 28, 28, 1)).
    """

    mirrors: ClassVar[list] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources: ClassVar[list] = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    system_folders = ()
    classes: ClassVar[list] = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
               "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine"]
    image_size = 28

    def __init__(self, root=None, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        folder = self._find_folder()
        if folder is None:
            raise self._not_found()
        self.data, self.targets = self._load_data(folder)

    # ------------------------------------------------------------------ files

    @property
    def raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    @property
    def search_folders(self):
        """Where the IDX files are looked for, in order: ``raw_folder`` then ``system_folders``."""
        return [self.raw_folder, *self.system_folders]

    @property
    def class_to_idx(self):
        return {name: i for i, name in enumerate(self.classes)}

    def _split_files(self):
        prefix = "train" if self.train else "t10k"
        return [f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte"]

    @staticmethod
    def _locate(folder, name):
        """``folder/name`` or ``folder/name.gz``, whichever exists (plain first), else None."""
        for candidate in (name, name + ".gz"):
            path = os.path.join(folder, candidate)
            if os.path.isfile(path):
                return path
        return None

    def _find_folder(self):
        for folder in self.search_folders:
            if all(self._locate(folder, name) for name in self._split_files()):
                return folder
        return None

    def _check_exists(self):
        return self._find_folder() is not None

    def _urls(self, filename):
        return [mirror + filename for mirror in self.mirrors]

    def _not_found(self, cause=None, tried=None):
        missing = [f"{name}[.gz]" for name in self._split_files()]
        urls = tried or [u for name in self._split_files() for u in self._urls(name + ".gz")]
        manual = (f"download {', '.join(name for name, _ in self.resources)} from one of "
                  f"{', '.join(self.mirrors)} and put them (gzipped or not) in "
                  f"{os.path.abspath(self.raw_folder)}.")
        return dataset_not_found(self.__class__.__name__, missing, self.search_folders, urls, manual, cause)

    def download(self):
        """Fetch every resource missing from ``raw_folder``, trying each mirror in turn (torchvision's order)."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            if self._locate(self.raw_folder, filename[: -len(".gz")]):
                continue
            errors, tried = [], []
            for url in self._urls(filename):
                tried.append(url)
                try:
                    download_url(url, self.raw_folder, filename, md5)
                    break
                except (urllib.error.URLError, OSError, CorruptFileError) as e:
                    print(f"Failed to download (trying next):\n{e}\n")
                    errors.append(f"{url}: {e}")
            else:
                raise self._not_found(cause="; ".join(errors), tried=tried)

    # ------------------------------------------------------------------ reading

    def _load_data(self, folder):
        image_name, label_name = self._split_files()
        image_path, label_path = self._locate(folder, image_name), self._locate(folder, label_name)
        images = read_image_file(image_path)
        labels = read_label_file(label_path)
        if images.shape[1:] != (self.image_size, self.image_size):
            raise CorruptFileError(image_path, f"images are {images.shape[1]}x{images.shape[2]}, "
                                               f"expected {self.image_size}x{self.image_size}")
        if len(images) != len(labels):
            raise CorruptFileError(label_path, f"{len(labels)} labels for the {len(images)} images of {image_path}")
        if labels.size and labels.max() >= len(self.classes):
            raise CorruptFileError(label_path, f"label {labels.max()} out of range for {len(self.classes)} classes")
        return from_numpy(images), from_numpy(labels)

    # ------------------------------------------------------------------ items

    def _item(self, img, target):
        return self._transformed(Image.fromarray(img), target)

    def __getitem__(self, index):
        return self._item(np.asarray(self.data)[index], int(np.asarray(self.targets)[index]))

    def __getitems__(self, indices):
        """The items at ``indices`` (a list of ints), gathering their pixels from ``data`` in one step."""
        idx = np.asarray(indices, dtype=np.intp)
        images, labels = np.asarray(self.data)[idx], np.asarray(self.targets)[idx]
        return [self._item(img, int(t)) for img, t in zip(images, labels)]

    def __getbatch__(self, indices):
        """The collated ``[images, targets]`` of ``indices`` for the DataLoader, or ``NotImplemented``
        (without a transform, or with one that has no batched form; see ``CIFAR10.__getbatch__``)."""
        if self.transform is None:
            return NotImplemented
        return image_batch(self.data, self.targets, indices, self.transform, self.target_transform)

    def arrays(self):
        """``(data, targets)``: uint8 (N, 28, 28, 1) images (a view, do not modify) and int64 labels.

        For loaders that gather and transform whole batches themselves; ``transform`` is not applied.
        """
        return np.asarray(self.data)[..., None], np.asarray(self.targets, dtype=np.int64)

    def __len__(self):
        return len(self.data)

    def extra_repr(self):
        split = "Train" if self.train is True else "Test"
        return f"Split: {split}"


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grayscale images of 10 kinds of clothing, MNIST's layout and sizes.

    Besides ``root/FashionMNIST/raw`` it finds the files that Debian's package ``dataset-fashion-mnist``
    installs in ``/usr/share/datasets/fashion-mnist``.
    """

    mirrors: ClassVar[list] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources: ClassVar[list] = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    system_folders = ("/usr/share/datasets/fashion-mnist",)
    classes: ClassVar[list] = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
               "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grayscale images of ten cursive Japanese characters, MNIST's layout and sizes."""

    mirrors: ClassVar[list] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources: ClassVar[list] = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes: ClassVar[list] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
