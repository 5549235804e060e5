"""Conversions between PIL images, NumPy arrays and image tensors."""

import numpy as np

from ... import dtypes
from .image_ops import _pil_to_tensor, _to_pil_image, _to_tensor


class _ToCHWTensor:
    """A conversion to a CHW tensor; in batches (``apply_batch``) from NHWC arrays to NCHW ones."""

    _accepts = ""  # what a single picture may be, for the refusal of a batch that is not channels-last

    def __repr__(self):
        return f"{self.__class__.__name__}()"

    @staticmethod
    def batch_layout(channels_last):
        return False

    def apply_batch(self, images, rng=None, channels_last=False):
        if not channels_last:
            raise TypeError(f"pic should be {self._accepts}. Got {type(images)}")
        return self._convert_batch(images)

    @staticmethod
    def _convert_batch(images):
        return np.ascontiguousarray(images.transpose(0, 3, 1, 2))


class ToTensor(_ToCHWTensor):
    """PIL image or HWC ndarray -> CHW float tensor; uint8 data is scaled to [0, 1], other dtypes kept."""

    _accepts = "PIL Image or ndarray"

    def __call__(self, pic):
        return _to_tensor(pic)

    @staticmethod
    def _convert_batch(images):
        if not isinstance(images, np.ndarray):
            raise NotImplementedError("ToTensor.apply_batch works on NumPy arrays")
        arr = _ToCHWTensor._convert_batch(images)
        if arr.dtype == np.uint8:
            float_dtype = dtypes.get_default_dtype().np
            out = arr.astype(float_dtype)
            out /= float_dtype.type(255)
            return out
        return arr


class PILToTensor(_ToCHWTensor):
    """PIL image -> CHW tensor of the image's own dtype, without scaling."""

    _accepts = "PIL Image"

    def __call__(self, pic):
        return _pil_to_tensor(pic)


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
