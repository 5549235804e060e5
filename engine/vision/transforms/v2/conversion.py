"""v2's conversions: any image to a CHW tensor without scaling, and dtype changes with optional scaling."""

import warnings

import numpy as np

from .... import dtypes
from ....backend import CPU
from ....nn.module import Module
from ....tensor import Tensor, make_tensor
from ..color_ops import _convert_image_dtype, _max_value
from ..image_ops import _is_pil, _pil_to_tensor


class ToImage(Module):
    """PIL image, HWC ndarray or tensor -> CHW tensor of the same dtype and values."""

    def forward(self, inpt):
        if isinstance(inpt, Tensor):
            return inpt
        if isinstance(inpt, np.ndarray):
            return make_tensor(np.ascontiguousarray(np.atleast_3d(inpt).transpose(2, 0, 1)), CPU)
        if _is_pil(inpt):
            return _pil_to_tensor(inpt)
        raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got {type(inpt)} "
                        "instead.")

    def __repr__(self):
        return f"{self.__class__.__name__}()"


class ToDtype(Module):
    """Image tensor -> ``dtype``; with ``scale``, values are mapped between the dtypes' ranges ([0, 1] for
    floats, [0, max] for integers), as ``convert_image_dtype``. Other inputs pass through."""

    def __init__(self, dtype, scale=False):
        super().__init__()
        if not isinstance(dtype, (dict, dtypes.dtype)):
            raise ValueError(f"dtype must be a dict or a torch.dtype, got {type(dtype)} instead")
        self.dtype = dtype
        self.scale = scale

    def forward(self, inpt):
        if not isinstance(inpt, Tensor):
            return inpt
        dtype = self._dtype_for(inpt)
        if dtype is None:
            if self.scale:
                warnings.warn("scale was set to True but no dtype was specified for images or videos: no scaling "
                              "will be done.", stacklevel=2)
            return inpt
        if not self.scale or inpt.dtype is dtype:
            return inpt.to(dtype)
        src, dst = inpt.dtype.np, dtype.np
        if src.kind == "f" and ((src == np.float32 and dst in (np.int32, np.int64)) or
                                (src == np.float64 and dst == np.int64)):
            raise RuntimeError(f"The conversion from {inpt.dtype} to {dtype} cannot be performed safely.")
        if src.kind != "f" and dst.kind == "f":
            # v2 multiplies by the reciprocal of the largest value (v1 divides by it)
            return inpt.to(dtype).mul(float(dst.type(1.0 / _max_value(src))))
        return _convert_image_dtype(inpt, dtype)

    def _dtype_for(self, inpt):
        """The target dtype of a tensor: ``dtype`` itself, or its entry for the tensor's type (or "others")."""
        if not isinstance(self.dtype, dict):
            return self.dtype
        if type(inpt) in self.dtype:
            return self.dtype[type(inpt)]
        if "others" in self.dtype:
            return self.dtype["others"]
        raise ValueError(f"No dtype was specified for type {type(inpt)}. If you only need to convert the dtype of "
                         "images or videos, you can just pass e.g. dtype=torch.float32. If you're passing a dict as "
                         'dtype, you can use "others" as a catch-all key e.g. dtype={tv_tensors.Mask: torch.int64, '
                         '"others": None} to pass-through the rest of the inputs.')

    def __repr__(self):
        return f"{self.__class__.__name__}(scale={self.scale})"
