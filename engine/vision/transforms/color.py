"""Normalisation, grey scale and colour jitter."""

import numbers

import numpy as np
from PIL import Image

from ... import dtypes
from ...nn.module import Module
from ...utils.data import current_rng
from .image_ops import (
    _adjust_brightness,
    _adjust_contrast,
    _adjust_hue,
    _adjust_saturation,
    _batch_axes,
    _get_dimensions,
    _gray_tensor,
    _gray_uint8_pil,
    _normalize,
    _to_grayscale,
    _writable,
)


class Normalize(Module):
    """``(x - mean) / std`` per channel of a float image tensor."""

    def __init__(self, mean, std, inplace=False):
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def forward(self, tensor):
        return _normalize(tensor, self.mean, self.std, self.inplace)

    def __repr__(self):
        return f"{self.__class__.__name__}(mean={self.mean}, std={self.std})"

    def apply_batch(self, images, rng=None, channels_last=False):
        if channels_last:
            raise TypeError(f"img should be Tensor Image. Got {Image.Image}")
        if images.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {dtypes.from_numpy(images.dtype)}.")
        mean = np.asarray(self.mean, dtype=images.dtype).reshape(-1, 1, 1)
        std = np.asarray(self.std, dtype=images.dtype).reshape(-1, 1, 1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {dtypes.from_numpy(images.dtype)}, "
                             "leading to division by zero.")
        if np.broadcast_shapes(images.shape, mean.shape, std.shape) != images.shape:
            return (images - mean) / std  # e.g. one channel, three means: broadcasts, as per image
        out = _writable(images)
        np.subtract(out, mean, out=out)
        np.divide(out, std, out=out)
        return out


class Grayscale(Module):
    """To grayscale with 1 or 3 (equal) output channels; PIL images use Pillow's 'L' conversion."""

    def __init__(self, num_output_channels=1):
        super().__init__()
        self.num_output_channels = num_output_channels

    def forward(self, img):
        return _to_grayscale(img, self.num_output_channels)

    def __repr__(self):
        return f"{self.__class__.__name__}(num_output_channels={self.num_output_channels})"

    def apply_batch(self, images, rng=None, channels_last=False):
        if self.num_output_channels not in (1, 3):
            raise ValueError("num_output_channels should be either 1 or 3")
        _, _, ca = _batch_axes(images, channels_last)
        c = images.shape[ca]
        if channels_last:
            if images.dtype != np.uint8 or c not in (1, 3, 4):
                raise NotImplementedError("batched Grayscale of PIL-like images needs uint8 L, RGB or RGBA")
            gray = images[..., :1] if c == 1 else _gray_uint8_pil(images, ca)[..., None]
        else:
            if c not in (1, 3):
                raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found {c}")
            gray = images[:, :1] if c == 1 else np.expand_dims(_gray_tensor(images, ca), ca)
        if self.num_output_channels == 3:
            gray = np.repeat(gray, 3, axis=ca)
        return gray


class ColorJitter(Module):
    """Randomly change brightness, contrast, saturation and hue, in a random order."""

    def __init__(self, brightness=0, contrast=0, saturation=0, hue=0):
        super().__init__()
        self.brightness = self._check_input(brightness, "brightness")
        self.contrast = self._check_input(contrast, "contrast")
        self.saturation = self._check_input(saturation, "saturation")
        self.hue = self._check_input(hue, "hue", center=0, bound=(-0.5, 0.5), clip_first_on_zero=False)

    @staticmethod
    def _check_input(value, name, center=1, bound=(0, float("inf")), clip_first_on_zero=True):
        if isinstance(value, numbers.Number):
            if value < 0:
                raise ValueError(f"If {name} is a single number, it must be non negative.")
            value = [center - float(value), center + float(value)]
            if clip_first_on_zero:
                value[0] = max(value[0], 0.0)
        elif isinstance(value, (tuple, list)) and len(value) == 2:
            value = [float(value[0]), float(value[1])]
        else:
            raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
        if not bound[0] <= value[0] <= value[1] <= bound[1]:
            raise ValueError(f"{name} values should be between {bound}, but got {value}.")
        if value[0] == value[1] == center:
            return None
        return tuple(value)

    @staticmethod
    def get_params(brightness, contrast, saturation, hue):
        """A random order of the four adjustments and their factors (None where disabled)."""
        rng = current_rng()
        fn_idx = rng.permutation(4)
        b = None if brightness is None else float(rng.uniform(brightness[0], brightness[1]))
        c = None if contrast is None else float(rng.uniform(contrast[0], contrast[1]))
        s = None if saturation is None else float(rng.uniform(saturation[0], saturation[1]))
        h = None if hue is None else float(rng.uniform(hue[0], hue[1]))
        return fn_idx, b, c, s, h

    def forward(self, img):
        fn_idx, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation, self.hue)
        for fn_id in fn_idx:
            if fn_id == 0 and b is not None:
                img = _adjust_brightness(img, b)
            elif fn_id == 1 and c is not None:
                img = _adjust_contrast(img, c)
            elif fn_id == 2 and s is not None:
                img = _adjust_saturation(img, s)
            elif fn_id == 3 and h is not None:
                img = _adjust_hue(img, h)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class RandomGrayscale(Module):
    """To grayscale with probability ``p``, keeping the number of channels (1 or 3)."""

    def __init__(self, p=0.1):
        super().__init__()
        self.p = p

    def forward(self, img):
        num_output_channels, _, _ = _get_dimensions(img)
        if current_rng().random() < self.p:
            return _to_grayscale(img, num_output_channels)
        return img

    def __repr__(self):
        return f"{self.__class__.__name__}(p={self.p})"
