"""``torch.special``: the error function family (``erf``, ``erfc``, ``erfinv``), also ``torch.erf`` etc. and
Tensor methods (with in-place ``erf_`` etc.). Integer and bool inputs compute in the default float dtype, as in
PyTorch."""

from .ops.elementwise import _float_operand
from .ops.inplace import apply_inplace
from .ops.op import write_out
from .ops.special import Erf, Erfc, Erfinv


def erf(input, *, out=None):
    return write_out(Erf.apply(_float_operand(input)), out, "erf")


def erfc(input, *, out=None):
    return write_out(Erfc.apply(_float_operand(input)), out, "erfc")


def erfinv(input, *, out=None):
    return write_out(Erfinv.apply(_float_operand(input)), out, "erfinv")


def erf_(self):
    return apply_inplace(self, erf)


def erfc_(self):
    return apply_inplace(self, erfc)


def erfinv_(self):
    return apply_inplace(self, erfinv)


__all__ = ["erf", "erfc", "erfinv"]
