"""The preprocessing a pretrained classifier expects (``weights.transforms()``), as torchvision's preset."""

import numpy as np

from ...nn.module import Module
from ...tensor import Tensor
from ..transforms.image_ops import (
    InterpolationMode,
    _array_of,
    _center_crop,
    _like,
    _normalize,
    _pil_to_tensor,
    _resize,
)


class ImageClassification(Module):
    """Resize the short side to ``resize_size``, crop the centre ``crop_size`` square, scale to [0, 1] and
    normalise with ImageNet's mean and std; for a PIL image or a (C, H, W) / (B, C, H, W) tensor."""

    def __init__(self, *, crop_size, resize_size=256, mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225),
                 interpolation=InterpolationMode.BILINEAR, antialias=True):
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img):
        img = _resize(img, self.resize_size, interpolation=self.interpolation)
        img = _center_crop(img, self.crop_size)
        if not isinstance(img, Tensor):
            img = _pil_to_tensor(img)
        arr = _array_of(img)
        if arr.dtype.kind != "f":
            arr = arr.astype(np.float32) / np.float32(np.iinfo(arr.dtype).max)
        return _normalize(_like(img, arr), mean=self.mean, std=self.std)

    def __repr__(self):
        return (f"{self.__class__.__name__}(\n    crop_size={self.crop_size}\n    resize_size={self.resize_size}\n"
                f"    mean={self.mean}\n    std={self.std}\n    interpolation={self.interpolation}\n)")
