"""Image utilities with torchvision's names and semantics: ``make_grid`` and ``save_image``."""

import math
import os

import numpy as np
from PIL import Image

from ..backend import CPU, array_module, transfer
from ..tensor import Tensor, make_tensor
from ..utils.files import atomic_write

__all__ = ["make_grid", "save_image"]


def _batch_array(tensor):
    """The array of ``tensor`` (or of a list of tensors, stacked) and its device."""
    if isinstance(tensor, Tensor):
        return tensor._data, tensor._device
    if not isinstance(tensor, list):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    for t in tensor:
        if not isinstance(t, Tensor):
            raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")
    if not tensor:
        raise RuntimeError("stack expects a non-empty TensorList")
    dev = tensor[0]._device
    if any(t._device != dev for t in tensor):
        raise RuntimeError("Expected all tensors to be on the same device, but found at least two devices, "
                           f"{dev} and {next(t._device for t in tensor if t._device != dev)}!")
    return array_module(dev).stack([t._data for t in tensor]), dev


def _normalized(a, xp, value_range, scale_each):
    """``a`` clamped to its range and mapped onto [0, 1], per image when ``scale_each``; a new array."""
    if a.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {a.dtype.name}")

    def norm(img):
        low, high = (float(img.min()), float(img.max())) if value_range is None else value_range
        img = img.clip(low, high)
        return (img - a.dtype.type(low)) / a.dtype.type(max(high - low, 1e-5))

    if scale_each:
        return xp.stack([norm(img) for img in a])
    return norm(a)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Arrange a mini-batch of images in a grid (torchvision's ``make_grid``).

    Args:
        tensor: a (B, C, H, W) tensor or a list of (C, H, W) tensors of one size; a (C, H, W) or (H, W)
            tensor is a single image. Single-channel images are repeated to three channels.
        nrow: images per row; the grid is ``min(nrow, B)`` wide and ``ceil(B / nrow)`` high.
        padding: pixels between the images and around the grid, filled with ``pad_value``.
        normalize: shift and scale to [0, 1] by ``value_range`` (min, max) or by the min and max of the
            images (of each image when ``scale_each``); values outside ``value_range`` are clamped.

    Returns a (C, (H + padding) * rows + padding, (W + padding) * cols + padding) tensor on the input's
    device and of its dtype, or the single image when B is 1. The input is not modified; the result does
    not take part in autograd.
    """
    a, dev = _batch_array(tensor)
    xp = array_module(dev)
    if a.ndim == 2:  # single image H x W
        a = a[None]
    if a.ndim == 3:  # single image C x H x W
        if a.shape[0] == 1:
            a = xp.concatenate((a, a, a), 0)
        a = a[None]
    if a.ndim != 4:
        raise ValueError(f"make_grid expects a 2-, 3- or 4-dimensional tensor, got {a.ndim} dimensions")
    if a.shape[1] == 1:  # single-channel images
        a = xp.concatenate((a, a, a), 1)

    if normalize is True:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        a = _normalized(a, xp, value_range, scale_each)

    if a.shape[0] == 1:
        return make_tensor(xp.ascontiguousarray(a[0]), dev)

    nmaps, channels = a.shape[0], a.shape[1]
    xmaps = min(nrow, nmaps)
    ymaps = math.ceil(nmaps / xmaps)
    height, width = int(a.shape[2] + padding), int(a.shape[3] + padding)
    grid = xp.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value, dtype=a.dtype)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        grid[:, y * height + padding:(y + 1) * height, x * width + padding:(x + 1) * width] = a[k]
    return make_tensor(grid, dev)


def _to_uint8_hwc(grid):
    arr = grid._data if grid._device is CPU else transfer(grid._data, grid._device, CPU)
    if arr.dtype.kind != "f":
        raise RuntimeError(f"result type Float can't be cast to the desired output type {arr.dtype.name}: "
                           "save_image expects floating-point images with values in [0, 1]")
    # Add 0.5 after scaling to [0, 255] to round to the nearest integer, as torchvision does.
    arr = (arr * arr.dtype.type(255) + arr.dtype.type(0.5)).clip(0, 255)
    if arr.ndim == 2:
        arr = arr[None]
    out = np.ascontiguousarray(arr.transpose(1, 2, 0)).astype(np.uint8)
    return out[..., 0] if out.shape[2] == 1 else out


def save_image(tensor, fp, format=None, **kwargs):
    """Save a tensor (or a list of tensors, arranged by ``make_grid(**kwargs)``) as an image file.

    ``fp`` is a path or a binary file object; the format comes from ``format`` or the file name's
    extension, as in Pillow. A path is written atomically: to a hidden file beside it, then renamed.
    """
    grid = make_grid(tensor, **kwargs)
    im = Image.fromarray(_to_uint8_hwc(grid))
    if not isinstance(fp, (str, bytes, os.PathLike)):
        im.save(fp, format=format)
        return
    path = os.fsdecode(os.fspath(fp))
    if format is None:  # Pillow names the format from a path's extension; the temporary file's name has none
        ext = os.path.splitext(path)[1].lower()
        format = Image.registered_extensions().get(ext)
        if format is None:
            raise ValueError(f"unknown file extension: {ext}")
    atomic_write(path, lambda fh, _tmp: im.save(fh, format=format))
