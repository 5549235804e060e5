"""Padding, cropping, flipping and resizing."""

from collections.abc import Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ...nn.module import Module
from ...utils.data import current_rng
from .image_ops import (
    _FROM_PIL_INT,
    InterpolationMode,
    _batch_axes,
    _center_crop,
    _check_pad_args,
    _crop,
    _get_dimensions,
    _hflip,
    _pad,
    _pad_array,
    _parse_padding,
    _resize,
    _setup_size,
    _vflip,
    _writable,
)


class Pad(Module):
    """Pad every side of the image (``padding``: int, (left/right, top/bottom) or (left, top, right,
    bottom))."""

    def __init__(self, padding, fill=0, padding_mode="constant"):
        super().__init__()
        _check_pad_args(padding, fill, padding_mode)
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        return _pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self):
        return f"{self.__class__.__name__}(padding={self.padding}, fill={self.fill}, padding_mode={self.padding_mode})"

    def apply_batch(self, images, rng=None, channels_last=False):
        h, w, c = _batch_axes(images, channels_last)
        return _pad_array(images, _parse_padding(self.padding), self.fill, self.padding_mode, (h, w), c)


class RandomCrop(Module):
    """Crop a random (``size``) window, after optional ``padding`` (``pad_if_needed`` pads images smaller
    than ``size``)."""

    @staticmethod
    def get_params(img, output_size):
        """(top, left, height, width) of a random crop of ``output_size``."""
        _, h, w = _get_dimensions(img)
        th, tw = output_size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if w == tw and h == th:
            return 0, 0, h, w
        rng = current_rng()
        i = int(rng.integers(0, h - th + 1))
        j = int(rng.integers(0, w - tw + 1))
        return i, j, th, tw

    def __init__(self, size, padding=None, pad_if_needed=False, fill=0, padding_mode="constant"):
        super().__init__()
        self.size = tuple(_setup_size(size, error_msg="Please provide only two dimensions (h, w) for size."))
        if padding is not None:
            _check_pad_args(padding, fill, padding_mode)
        self.padding = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    def forward(self, img):
        if self.padding is not None:
            img = _pad(img, self.padding, self.fill, self.padding_mode)
        _, height, width = _get_dimensions(img)
        if self.pad_if_needed and width < self.size[1]:
            img = _pad(img, [self.size[1] - width, 0], self.fill, self.padding_mode)
        if self.pad_if_needed and height < self.size[0]:
            img = _pad(img, [0, self.size[0] - height], self.fill, self.padding_mode)
        i, j, h, w = self.get_params(img, self.size)
        return _crop(img, i, j, h, w)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size}, padding={self.padding})"

    def apply_batch(self, images, rng=None, channels_last=False):
        rng = current_rng() if rng is None else rng
        ha, wa, ca = _batch_axes(images, channels_last)
        x = images
        if self.padding is not None:
            x = _pad_array(x, _parse_padding(self.padding), self.fill, self.padding_mode, (ha, wa), ca)
        if self.pad_if_needed and x.shape[wa] < self.size[1]:
            x = _pad_array(x, [self.size[1] - x.shape[wa], 0] * 2, self.fill, self.padding_mode, (ha, wa), ca)
        if self.pad_if_needed and x.shape[ha] < self.size[0]:
            x = _pad_array(x, [0, self.size[0] - x.shape[ha]] * 2, self.fill, self.padding_mode, (ha, wa), ca)
        h, w = x.shape[ha], x.shape[wa]
        th, tw = self.size
        if h < th or w < tw:
            raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
        if h == th and w == tw:
            return x
        if x.ndim != 4:
            raise NotImplementedError("RandomCrop.apply_batch expects a 4-d batch")
        n = x.shape[0]
        top = rng.integers(0, h - th + 1, size=n)
        left = rng.integers(0, w - tw + 1, size=n)
        windows = sliding_window_view(x, (th, tw), axis=(ha, wa))
        rows = np.arange(n)
        if channels_last:
            # windows: (N, H', W', C, th, tw) -> (N, C, th, tw); hand back an NHWC view of that memory,
            # which the usual next step (ToTensor) turns into contiguous NCHW without a shuffle.
            return windows[rows, top, left].transpose(0, 2, 3, 1)
        return windows[rows, :, top, left]  # (N, C, th, tw)


class CenterCrop(Module):
    """Crop the centre (``size``), padding with zeros when the image is smaller."""

    def __init__(self, size):
        super().__init__()
        self.size = _setup_size(size, error_msg="Please provide only two dimensions (h, w) for size.")

    def forward(self, img):
        return _center_crop(img, self.size)

    def __repr__(self):
        return f"{self.__class__.__name__}(size={self.size})"

    def apply_batch(self, images, rng=None, channels_last=False):
        ha, wa, ca = _batch_axes(images, channels_last)
        th, tw = self.size
        h, w = images.shape[ha], images.shape[wa]
        x = images
        if tw > w or th > h:
            ltrb = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                    (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
            x = _pad_array(x, ltrb, 0, "constant", (ha, wa), ca)
            h, w = x.shape[ha], x.shape[wa]
            if (h, w) == (th, tw):
                return x
        top = round((h - th) / 2.0)
        left = round((w - tw) / 2.0)
        index = [slice(None)] * x.ndim
        index[ha] = slice(top, top + th)
        index[wa] = slice(left, left + tw)
        return x[tuple(index)]


class _RandomFlip(Module):
    _axis_from_end = -1  # the flipped axis of an image tensor

    def __init__(self, p=0.5):
        super().__init__()
        self.p = p

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"

    def apply_batch(self, images, rng=None, channels_last=False):
        rng = current_rng() if rng is None else rng
        ha, wa, _ = _batch_axes(images, channels_last)
        axis = wa if self._axis_from_end == -1 else ha
        flip = np.flatnonzero(rng.random(images.shape[0]) < self.p)
        if flip.size == 0:
            return images
        out = _writable(images)
        target = out
        if channels_last and not out.flags.c_contiguous and out.transpose(0, 3, 1, 2).flags.c_contiguous:
            # An NHWC view of NCHW memory (what RandomCrop hands on): flip in memory order, much faster.
            target, axis = out.transpose(0, 3, 1, 2), axis + 1
        if axis == target.ndim - 2 and target.flags.c_contiguous:
            # Flipping the width of channels-last memory: move whole pixels, viewing each pixel's channels
            # as one opaque element (several times faster than copying a few bytes at a time).
            pixels = target.view(np.dtype((np.void, target.shape[-1] * target.itemsize)))
            pixels[flip] = np.flip(pixels[flip], axis=axis)
        else:
            target[flip] = np.ascontiguousarray(np.flip(target[flip], axis=axis))
        return out


class RandomHorizontalFlip(_RandomFlip):
    """Flip left-right with probability ``p``."""

    def forward(self, img):
        if current_rng().random() < self.p:
            return _hflip(img)
        return img


class RandomVerticalFlip(_RandomFlip):
    """Flip upside down with probability ``p``."""

    _axis_from_end = -2

    def forward(self, img):
        if current_rng().random() < self.p:
            return _vflip(img)
        return img


class Resize(Module):
    """Resize to ``size``: (h, w), or an int to match the smaller edge keeping the aspect ratio."""

    def __init__(self, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        if isinstance(interpolation, int):
            interpolation = _FROM_PIL_INT[interpolation]
        if not isinstance(interpolation, InterpolationMode):
            raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                            "constant")
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        return _resize(img, self.size, self.interpolation, self.max_size)

    def __repr__(self):
        detail = (f"(size={self.size}, interpolation={self.interpolation.value}, max_size={self.max_size}, "
                  f"antialias={self.antialias})")
        return f"{self.__class__.__name__}{detail}"
