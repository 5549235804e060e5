"""Random erasing (Zhong et al., 2017) of a rectangle of an image tensor."""

import math
import numbers
import warnings
from collections.abc import Sequence

import numpy as np

from ...backend import CPU, transfer
from ...nn.module import Module
from ...tensor import Tensor, make_tensor
from ...utils.data import current_rng
from .functional import erase
from .image_ops import _array_of, _device_of_image


class RandomErasing(Module):
    """With probability ``p``, set a random rectangle (a share ``scale`` of the area, aspect ratio in
    ``ratio``) of a tensor image to ``value``: a number, one per channel, or "random" (standard normal)."""

    def __init__(self, p=0.5, scale=(0.02, 0.33), ratio=(0.3, 3.3), value=0, inplace=False):
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if (scale[0] > scale[1]) or (ratio[0] > ratio[1]):
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(img, scale, ratio, value=None):
        """(i, j, h, w, v): the rectangle and its values (``value`` per channel, or standard normal values
        when None); the whole image and the image itself when ten draws do not fit."""
        img_c, img_h, img_w = img.shape[-3], img.shape[-2], img.shape[-1]
        area = img_h * img_w
        log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
        rng = current_rng()
        for _ in range(10):
            erase_area = area * float(rng.uniform(scale[0], scale[1]))
            aspect_ratio = math.exp(float(rng.uniform(log_ratio[0], log_ratio[1])))
            h = round(math.sqrt(erase_area * aspect_ratio))
            w = round(math.sqrt(erase_area / aspect_ratio))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = rng.standard_normal((img_c, h, w), dtype=np.float32)
            else:
                v = np.asarray(value, dtype=np.float32)[:, None, None]
            i = int(rng.integers(0, img_h - h + 1))
            j = int(rng.integers(0, img_w - w + 1))
            return i, j, h, w, make_tensor(transfer(v, CPU, _device_of_image(img)), _device_of_image(img)) \
                if isinstance(img, Tensor) else v
        return 0, 0, img_h, img_w, img

    def forward(self, img):
        if current_rng().random() < self.p:
            if isinstance(self.value, (int, float)):
                value = [float(self.value)]
            elif isinstance(self.value, str):
                value = None
            else:
                value = [float(v) for v in self.value]
            channels = _array_of(img).shape[-3]
            if value is not None and len(value) not in (1, channels):
                raise ValueError("If value is a sequence, it should have either a single value or "
                                 f"{channels} (number of input channels)")
            x, y, h, w, v = self.get_params(img, scale=self.scale, ratio=self.ratio, value=value)
            return erase(img, x, y, h, w, v, self.inplace)
        return img

    def __repr__(self):
        return (f"{self.__class__.__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, value={self.value}, "
                f"inplace={self.inplace})")
