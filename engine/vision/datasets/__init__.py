"""Image datasets with torchvision's names and behaviour: ``CIFAR10``, ``MNIST``, ``FashionMNIST``,
``ImageFolder`` (and its base ``DatasetFolder``).

Every ``root`` defaults (when None) to ``$LAYERLAB_DATA`` or ``~/.cache/layerlab/data``. Files are
untrusted input: CIFAR pickles go through a restricted unpickler, IDX headers are checked against the
file length, downloads are MD5-verified and moved into place only when whole.
"""

from .cifar import CIFAR10
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import MNIST, FashionMNIST
from .utils import CorruptFileError, DatasetNotFoundError, default_root
from .vision import StandardTransform, VisionDataset

__all__ = [
    "CIFAR10",
    "IMG_EXTENSIONS",
    "MNIST",
    "CorruptFileError",
    "DatasetFolder",
    "DatasetNotFoundError",
    "FashionMNIST",
    "ImageFolder",
    "StandardTransform",
    "VisionDataset",
    "default_loader",
    "default_root",
    "pil_loader",
]
