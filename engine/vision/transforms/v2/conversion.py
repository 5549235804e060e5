"""v2's conversions: any image to a CHW tensor without scaling, and dtype changes with optional scaling."""

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
        if not self.scale or inpt.dtype is self.dtype:
            return inpt.to(self.dtype)
        src, dst = inpt.dtype.np, self.dtype.np
        if src.kind == "f" and ((src == np.float32 and dst in (np.int32, np.int64)) or
                                (src == np.float64 and dst == np.int64)):
            raise RuntimeError(f"The conversion from {inpt.dtype} to {self.dtype} cannot be performed safely.")
        if src.kind != "f" and dst.kind == "f":
            # v2 multiplies by the reciprocal of the largest value (v1 divides by it)
            return inpt.to(self.dtype).mul(float(dst.type(1.0 / _max_value(src))))
        return _convert_image_dtype(inpt, self.dtype)

    def __repr__(self):
        return f"{self.__class__.__name__}(scale={self.scale})"
