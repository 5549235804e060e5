"""In-memory image datasets built a batch at a time: ``image_batch`` gathers the images of a batch and runs
the transform over all of them when every step has a batched form (``transforms.apply_batch``);
``ImageArrayDataset`` and the MNIST and CIFAR datasets answer the loader's ``__getbatch__`` with it."""

import numpy as np
from PIL import Image

from ..backend import CPU
from ..tensor import Tensor, make_tensor
from ..utils.data import Dataset, current_rng, default_collate
from . import transforms as T


def _python_scalar(value):
    if isinstance(value, Tensor):
        return value.item()
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        return value.item()
    return value


def _target_batch(targets, idx):
    """``targets[idx]`` as the array ``default_collate`` makes of their Python scalars, or None if they are
    not plain numbers."""
    if isinstance(targets, Tensor):
        arr = targets._host()[idx]
    elif isinstance(targets, np.ndarray):
        arr = targets[idx]
    else:
        arr = np.array([_python_scalar(targets[i]) for i in idx.tolist()])
    if arr.ndim != 1:
        return None
    if arr.dtype.kind == "b":
        return arr.astype(np.bool_, copy=False)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind == "f":
        return arr.astype(np.float64, copy=False)
    return None


def _to_pil(img):
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[:, :, 0]
    return Image.fromarray(img)


def image_batch(images, targets, indices, transform=None, target_transform=None):
    """The collated batch ``[images, targets]`` of an in-memory image dataset, or ``NotImplemented``.

    ``images`` is an array (N, H, W, C) or (N, H, W) whose samples the dataset hands to ``transform`` as
    PIL images (as torchvision's CIFAR10 and MNIST do); ``targets`` a sequence of numbers. The images
    of the batch are gathered at once and ``transform`` runs over the whole batch when every step of it
    has a batched form and the result is tensor-shaped; otherwise (or with an unusual ``targets``) the
    answer is ``NotImplemented`` and the loader falls back to one sample at a time.
    """
    idx = np.asarray(indices, dtype=np.int64)
    if isinstance(images, Tensor):
        images = images._host()
    if transform is None:
        batch = images[idx]
    elif not T.is_batchable(transform):
        return NotImplemented
    else:
        try:
            batch, channels_last = T.apply_batch(transform, images[idx], current_rng(), return_layout=True)
        except NotImplementedError:
            return NotImplemented
        if channels_last:
            return NotImplemented  # the per-sample result would be PIL images, which do not collate
    if target_transform is None:
        t = _target_batch(targets, idx)
        if t is None:
            return NotImplemented
        target_batch = make_tensor(t, CPU)
    else:
        target_batch = default_collate([target_transform(_python_scalar(targets[i])) for i in indices])
    return [make_tensor(np.ascontiguousarray(batch), CPU), target_batch]


class ImageArrayDataset(Dataset):
    """Images held in memory as one uint8 array, with their targets; transforms run per batch when they can.

    ``images`` is (N, H, W, C) or (N, H, W); sample ``i`` is ``(transform(PIL image), target)``, with
    the image as the raw array when ``transform`` is None (so batches collate to uint8 tensors). With a
    transform made only of steps that have a batched form (``Compose`` of ``RandomCrop``,
    ``RandomHorizontalFlip``, ``ToTensor``, ``Normalize``, ...), a :class:`DataLoader` builds whole
    batches through :meth:`__getbatch__` without a Python loop per sample.
    """

    def __init__(self, images, targets, transform=None, target_transform=None):
        if isinstance(images, Tensor):
            images = images._host()
        images = np.asarray(images)
        if images.ndim not in (3, 4):
            raise ValueError(f"images should be (N, H, W) or (N, H, W, C), got shape {images.shape}")
        if len(targets) != len(images):
            raise ValueError(f"{len(images)} images but {len(targets)} targets")
        self.data = images
        self.targets = targets
        self.transform = transform
        self.target_transform = target_transform

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img, target = self.data[index], _python_scalar(self.targets[index])
        if self.transform is not None:
            img = self.transform(_to_pil(img))
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __getbatch__(self, indices):
        return image_batch(self.data, self.targets, indices, self.transform, self.target_transform)
