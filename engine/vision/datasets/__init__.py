"""Image datasets with torchvision's names and behaviour: ``CIFAR10``, ``MNIST``, ``FashionMNIST``,
``CIFAR100``, ``KMNIST``, ``EMNIST``, ``STL10``, ``SVHN``, ``ImageFolder`` (and its base ``DatasetFolder``).

Every ``root`` defaults (when None) to ``$LAYERLAB_DATA`` or ``~/.cache/layerlab/data``. Files are
untrusted input, read in time and memory linear in their size: CIFAR pickles go through a restricted
unpickler, IDX headers are checked against the data (gzip decompressed no further than they claim), images
open through ``engine.vision.image_file``, SVHN's ``.mat`` files through a MATLAB v5 reader that allocates only
for the values a file really holds, STL-10's binaries are sized against what they must hold before they are read, and
EMNIST's zip is checked member by member (paths, links, declared sizes) before anything is inflated; every
refusal is a ``CorruptFileError`` naming the file.
``ImageFolder(..., on_bad_sample="skip")`` leaves unreadable images out of batches and counts them.
Downloads are MD5-verified and moved into place only when whole.
"""

from .cifar import CIFAR10, CIFAR100
from .emnist import EMNIST
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .mnist import KMNIST, MNIST, FashionMNIST
from .stl10 import STL10
from .svhn import SVHN
from .utils import CorruptFileError, DatasetNotFoundError, default_root
from .vision import StandardTransform, VisionDataset

__all__ = [
    "CIFAR10",
    "CIFAR100",
    "EMNIST",
    "IMG_EXTENSIONS",
    "KMNIST",
    "MNIST",
    "STL10",
    "SVHN",
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
