"""Conversions between PIL images, NumPy arrays and image tensors."""

import numpy as np

from ... import dtypes
from .image_ops import _pil_to_tensor, _to_pil_image, _to_tensor


class ToTensor:
    """PIL image or HWC ndarray -> CHW float tensor; uint8 data is scaled to [0, 1], other dtypes kept."""

    def __call__(self, pic):
        return _to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"

    @staticmethod
    def batch_layout(channels_last):
        return False

    def apply_batch(self, images, rng=None, channels_last=False):
        if not channels_last:
            raise TypeError(f"pic should be PIL Image or ndarray. Got {type(images)}")
        if not isinstance(images, np.ndarray):
            raise NotImplementedError("ToTensor.apply_batch works on NumPy arrays")
        arr = np.ascontiguousarray(images.transpose(0, 3, 1, 2))
        if arr.dtype == np.uint8:
            float_dtype = dtypes.get_default_dtype().np
            out = arr.astype(float_dtype)
            out /= float_dtype.type(255)
            return out
        return arr


class PILToTensor:
    """PIL image -> CHW tensor of the image's own dtype, without scaling."""

    def __call__(self, pic):
        return _pil_to_tensor(pic)

    def __repr__(self):
        return f"{self.__class__.__name__}()"

    @staticmethod
    def batch_layout(channels_last):
        return False

    def apply_batch(self, images, rng=None, channels_last=False):
        if not channels_last:
            raise TypeError(f"pic should be PIL Image. Got {type(images)}")
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


class ToPILImage:
    """CHW tensor or HWC ndarray -> PIL image (float data is scaled by 255 and truncated to uint8)."""

    def __init__(self, mode=None):
        self.mode = mode

    def __call__(self, pic):
        return _to_pil_image(pic, self.mode)

    def __repr__(self):
        format_string = self.__class__.__name__ + "("
        if self.mode is not None:
            format_string += f"mode={self.mode}"
        format_string += ")"
        return format_string
