"""Activation functions, each one graph node with an analytic backward: leaky_relu, gelu (exact and tanh),
elu, selu, celu, silu, mish, softplus, hardtanh, relu6, hardsigmoid, hardswish, logsigmoid, threshold, prelu,
softsign, tanhshrink, hardshrink, softshrink, glu; rrelu (a random slope in training, dropout's product node);
and softmin, softmax of the negated input.

Names, arguments, node names and errors follow ``torch.nn.functional``; gelu's ``erf`` is ``special.erf``.
"""

import warnings

import numpy as np

from ..backend import Implementation
from ..dtypes import FLOAT_KINDS, get_default_dtype, legacy_name
from ..random import uniform_array
from ..tensor import make_tensor, wrap_dim
from . import activation_kernels, gelu_kernels, jit
from .convert import cast
from .dropout import Dropout
from .gelu_kernels import INV_SQRT_2PI, K_BETA, K_KAPPA, SQRT1_2
from .inplace import apply_inplace
from .op import Op, sum_to, unbroadcast, xp_of
from .piecewise import constant_in
from .shape import cat
from .softmax import softmax
from .special import Erf, erf


def _check_float(x, kernel):
    if x._data.dtype.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{legacy_name(x._data.dtype)}\'')


def _mask(condition, like):
    """A boolean array as a constant tensor of ``like``'s dtype and device."""
    return make_tensor(condition.astype(like._data.dtype), like._device)


class _Activation(Op):
    """y = f(x) elementwise; backward ``df(g, x, *args)``, from the saved input; with ``create_graph``,
    ``df_graph(g, x, *args)``, the same in tensor ops."""

    __slots__ = ("args", "x")
    saves = 1

    def forward(self, x, args=()):
        self.x, self.args = x, args
        return self.f(x, *args)

    def backward(self, g):
        return (self.df(g, self.x, *self.args),)

    def backward_graph(self, g):
        return (self.df_graph(g, self.saved_input(0, self.x), *self.args),)


class _PiecewiseLinear(_Activation):
    """An activation whose derivative is piecewise constant: ``df`` of ones is the factor, constant in x."""

    __slots__ = ()

    def df_graph(self, g, x, *args):
        factor = self.df(xp_of(self.x).ones_like(self.x), self.x, *args)
        return constant_in(g * make_tensor(factor, x._device), x)


def stable_sigmoid(x):
    """sigmoid(x) without overflow for either sign of ``x``."""
    xp = xp_of(x)
    e = xp.exp(-xp.abs(x))
    r = 1 / (1 + e)
    er = e * r
    # r where x >= 0, e * r elsewhere, as arithmetic: NumPy's ``where`` on an unpredictable mask costs 10x more,
    # and both values lie in [0, 1], so the blend is exact but for the last bit of r
    return er + (x >= 0) * (r - er)


def log_sigmoid(x):
    """log(sigmoid(x)), stable for either sign of ``x``."""
    xp = xp_of(x)
    return xp.minimum(x, 0) - xp.log1p(xp.exp(-xp.abs(x)))


def _softplus(x):
    xp = xp_of(x)
    return xp.maximum(x, 0) + xp.log1p(xp.exp(-xp.abs(x)))


class LeakyRelu(_PiecewiseLinear):
    __slots__ = ()
    _name = "LeakyReluBackward0"

    @staticmethod
    def f(x, slope):
        return xp_of(x).where(x > 0, x, x * x.dtype.type(slope))

    @staticmethod
    def df(g, x, slope):
        return xp_of(g).where(x > 0, g, g * g.dtype.type(slope))


class _GenericGelu(Implementation):
    """Array code for NumPy or CuPy; erf is ``special.erf``."""

    @staticmethod
    def f(x, approximate):
        t = x.dtype.type
        if approximate == "tanh":
            inner = (x + x * x * x * t(K_KAPPA)) * t(K_BETA)
            return x * t(0.5) * (1 + xp_of(x).tanh(inner))
        return x * t(0.5) * (1 + erf(x * t(SQRT1_2)))

    @staticmethod
    def df(g, x, approximate):
        xp = xp_of(x)
        t = x.dtype.type
        if approximate == "tanh":
            x_sq = x * x
            inner = (x + x_sq * x * t(K_KAPPA)) * t(K_BETA)
            th = xp.tanh(inner)
            left_d = (1 + th) * t(0.5)
            right_d = x * t(0.5) * (1 - th * th) * ((1 + x_sq * t(3 * K_KAPPA)) * t(K_BETA))
            return g * (left_d + right_d)
        cdf = (1 + erf(x * t(SQRT1_2))) * t(0.5)
        pdf = xp.exp(x * x * t(-0.5)) * t(INV_SQRT_2PI)
        return g * (cdf + x * pdf)


class _CompiledGelu(Implementation):
    """``gelu_kernels``: host float32/float64, one threaded pass each way."""

    name = "compiled"

    @staticmethod
    def applies(x, args=()):
        return jit.takes_floats(x)

    @staticmethod
    def f(x, approximate):
        return gelu_kernels.forward(x, approximate)

    @staticmethod
    def df(g, x, approximate):
        return gelu_kernels.backward(g, x, approximate)


class Gelu(_Activation):
    __slots__ = ()
    _name = "GeluBackward0"
    implementations = (_CompiledGelu, _GenericGelu)

    def f(self, x, approximate):
        return self._impl.f(x, approximate)

    def df(self, g, x, approximate):
        return self._impl.df(g, x, approximate)

    @staticmethod
    def df_graph(g, x, approximate):
        if approximate == "tanh":
            x_sq = x * x
            th = ((x + x_sq * x * K_KAPPA) * K_BETA).tanh()
            right = x * 0.5 * (1 - th * th) * ((x_sq * (3 * K_KAPPA) + 1) * K_BETA)
            return g * ((th + 1) * 0.5 + right)
        cdf = (Erf.apply(x * SQRT1_2) + 1) * 0.5
        pdf = (x * x * -0.5).exp() * INV_SQRT_2PI
        return g * (cdf + x * pdf)


class Elu(_Activation):
    """ELU, SELU and CELU: ``scale * (x if x > 0 else alpha * (exp(x * input_scale) - 1))``."""

    __slots__ = ()
    _name = "EluBackward0"

    @staticmethod
    def f(x, alpha, scale, input_scale):
        xp = xp_of(x)
        t = x.dtype.type
        neg = xp.expm1(xp.minimum(x, 0) * t(input_scale)) * t(alpha)
        y = xp.where(x > 0, x, neg)
        return y * t(scale) if scale != 1 else y

    @staticmethod
    def df(g, x, alpha, scale, input_scale):
        xp = xp_of(x)
        t = x.dtype.type
        neg = xp.exp(xp.minimum(x, 0) * t(input_scale)) * t(alpha * scale * input_scale)
        return g * xp.where(x > 0, t(scale), neg)

    @staticmethod
    def df_graph(g, x, alpha, scale, input_scale):
        pos = x._data > 0
        neg = (x.clamp(max=0) * input_scale).exp() * _mask(~pos, x) * (alpha * scale * input_scale)
        return g * (neg + _mask(pos, x) * scale)


class Celu(Elu):
    __slots__ = ()
    _name = "CeluBackward0"


class Silu(_Activation):
    __slots__ = ()
    _name = "SiluBackward0"

    @staticmethod
    def f(x):
        return x * stable_sigmoid(x)

    @staticmethod
    def df(g, x):
        s = stable_sigmoid(x)
        return g * s * (1 + x * (1 - s))

    @staticmethod
    def df_graph(g, x):
        s = x.sigmoid()
        return g * (s * (x * (1 - s) + 1))


class Mish(_Activation):
    __slots__ = ()
    _name = "MishBackward0"

    @staticmethod
    def f(x):
        return x * xp_of(x).tanh(_softplus(x))

    @staticmethod
    def df(g, x):
        th = xp_of(x).tanh(_softplus(x))
        return g * (th + x * stable_sigmoid(x) * (1 - th * th))

    @staticmethod
    def df_graph(g, x):
        th = softplus(x).tanh()
        return g * (th + x * x.sigmoid() * (1 - th * th))


class Softplus(_Activation):
    __slots__ = ()
    _name = "SoftplusBackward0"

    @staticmethod
    def f(x, beta, threshold):
        t = x.dtype.type
        bx = x * t(beta)
        soft = _softplus(bx) / t(beta) if beta != 1 else _softplus(bx)
        return xp_of(x).where(bx > threshold, x, soft)

    @staticmethod
    def df(g, x, beta, threshold):
        bx = x * x.dtype.type(beta)
        return xp_of(x).where(bx > threshold, g, g * stable_sigmoid(bx))

    @staticmethod
    def df_graph(g, x, beta, threshold):
        over = x._data * x._data.dtype.type(beta) > threshold
        return g * ((x * beta).sigmoid() * _mask(~over, x) + _mask(over, x))


class Hardtanh(_PiecewiseLinear):
    __slots__ = ()
    _name = "HardtanhBackward0"

    @staticmethod
    def f(x, lo, hi):
        return xp_of(x).clip(x, x.dtype.type(lo), x.dtype.type(hi))

    @staticmethod
    def df(g, x, lo, hi):
        return g * ((x > lo) & (x < hi))


class Hardsigmoid(_Activation):
    __slots__ = ()
    _name = "HardsigmoidBackward0"
    backward_graph = None  # PyTorch has no derivative of hardsigmoid_backward either

    @staticmethod
    def f(x):
        t = x.dtype.type
        return xp_of(x).clip(x * t(1 / 6) + t(0.5), t(0), t(1))

    @staticmethod
    def df(g, x):
        return g * ((x > -3) & (x < 3)) * g.dtype.type(1 / 6)


class Hardswish(_Activation):
    __slots__ = ()
    _name = "HardswishBackward0"

    @staticmethod
    def f(x):
        t = x.dtype.type
        return x * xp_of(x).clip(x + t(3), t(0), t(6)) * t(1 / 6)

    @staticmethod
    def df(g, x):
        xp = xp_of(x)
        t = x.dtype.type
        mid = x * t(1 / 3) + t(0.5)
        return g * xp.where(x < -3, t(0), xp.where(x <= 3, mid, t(1)))

    @staticmethod
    def df_graph(g, x):
        a = x._data
        return g * ((x * (1 / 3) + 0.5) * _mask((a >= -3) & (a <= 3), x) + _mask(a > 3, x))


class LogSigmoid(_Activation):
    __slots__ = ()
    _name = "LogSigmoidBackward0"

    f = staticmethod(log_sigmoid)

    @staticmethod
    def df(g, x):
        return g * stable_sigmoid(-x)

    @staticmethod
    def df_graph(g, x):
        return g * (-x).sigmoid()


class Threshold(_PiecewiseLinear):
    __slots__ = ()
    _name = "ThresholdBackward0"

    @staticmethod
    def f(x, threshold, value):
        return xp_of(x).where(x > threshold, x, x.dtype.type(value))

    @staticmethod
    def df(g, x, threshold, value):
        return g * (x > threshold)


class Hardshrink(_PiecewiseLinear):
    __slots__ = ()
    _name = "HardshrinkBackward0"

    @staticmethod
    def f(x, lambd):
        return xp_of(x).where(xp_of(x).abs(x) > lambd, x, x.dtype.type(0))

    @staticmethod
    def df(g, x, lambd):
        return g * (xp_of(x).abs(x) > lambd)


class Softshrink(Hardshrink):
    __slots__ = ()
    _name = "SoftshrinkBackward0"

    @staticmethod
    def f(x, lambd):
        xp = xp_of(x)
        t = x.dtype.type
        return xp.where(x > lambd, x - t(lambd), xp.where(x < -lambd, x + t(lambd), t(0)))


class _GenericPrelu(Implementation):
    """Array code for NumPy or CuPy: the weight broadcast over the channel axis."""

    @staticmethod
    def forward(node, x, w):
        return xp_of(x).where(x > 0, x, x * _channel_shaped(w, x.ndim))

    @staticmethod
    def backward(node, g):
        x, w = node.x, node.w
        xp = xp_of(x)
        pos = x > 0
        ex, ew = node._edges
        gx = None if ex is None else xp.where(pos, g, g * _channel_shaped(w, x.ndim))
        gw = None if ew is None else unbroadcast(xp.where(pos, 0, g * x), _channel_shape(w.size, x.ndim))
        return gx, None if gw is None else gw.reshape(w.shape)


class _CompiledPrelu(Implementation):
    """``activation_kernels``: host float32/float64 with a weight of the same dtype; one threaded pass each way,
    the weight's gradient summed per thread in float64."""

    name = "compiled"

    @staticmethod
    def applies(x, w, **_):
        return x.size > 0 and x.ndim >= 1 and w.dtype == x.dtype and jit.takes_floats(x)

    @staticmethod
    def forward(node, x, w):
        return activation_kernels.forward(x, w.reshape(-1))

    @staticmethod
    def backward(node, g):
        x, w = node.x, node.w
        gx, gw = activation_kernels.backward(x, w.reshape(-1), g, node._edges[1] is not None)
        return (gx if node._edges[0] is not None else None), (None if gw is None else gw.reshape(w.shape))


class Prelu(Op):
    """``x if x > 0 else weight * x``, one weight per channel (axis 1) or one for all."""

    __slots__ = ("w", "x")
    _name = "PreluKernelBackward0"
    saves = 1
    implementations = (_CompiledPrelu, _GenericPrelu)

    def forward(self, x, w):
        self.x, self.w = x, w
        return self._impl.forward(self, x, w)

    def backward_graph(self, g):
        x, w = self.saved_input(0, self.x), self.saved_input(1, self.w)
        pos = x._data > 0
        shape = _channel_shape(w.numel(), x.ndim)
        ex, ew = self._edges
        # tied to both inputs, as PyTorch's backward is, though the mask's derivative is zero
        gx = None if ex is None else constant_in(g * (_mask(pos, x) + _mask(~pos, x) * w.reshape(shape)), x)
        gw = None if ew is None else constant_in(sum_to(g * x * _mask(~pos, x), shape).reshape(w.shape), w)
        return gx, gw


def _channel_shape(n, ndim):
    """The shape that broadcasts prelu's ``n`` weights over axis 1 of an ``ndim``-dimensional input."""
    return (1, n) + (1,) * (ndim - 2) if ndim > 1 and n > 1 else (1,) * min(ndim, 1)


def _channel_shaped(w, ndim):
    return w.reshape(_channel_shape(w.size, ndim))


class Softsign(_Activation):
    __slots__ = ()
    _name = "SoftsignBackward0"

    @staticmethod
    def f(x):
        return x / (xp_of(x).abs(x) + 1)

    @staticmethod
    def df(g, x):
        d = xp_of(x).abs(x) + 1
        return g / (d * d)

    @staticmethod
    def df_graph(g, x):
        d = x.abs() + 1
        return g / (d * d)


class Tanhshrink(_Activation):
    __slots__ = ()
    _name = "TanhshrinkBackward0"

    @staticmethod
    def f(x):
        return x - xp_of(x).tanh(x)

    @staticmethod
    def df(g, x):
        th = xp_of(x).tanh(x)
        return g * (th * th)

    @staticmethod
    def df_graph(g, x):
        th = x.tanh()
        return g * (th * th)


class Glu(Op):
    """``a * sigmoid(b)`` of the halves ``a``, ``b`` of the input along ``axis``."""

    __slots__ = ("axis", "x")
    _name = "GluBackward0"
    saves = 1

    def forward(self, x, axis=-1):
        self.x, self.axis = x, axis
        a, b = _halves(x, axis)
        return a * stable_sigmoid(b)

    def backward(self, g):
        xp = xp_of(g)
        a, b = _halves(self.x, self.axis)
        s = stable_sigmoid(b)
        ga = g * s
        return (xp.concatenate([ga, ga * a * (1 - s)], axis=self.axis),)

    def backward_graph(self, g):
        a, b = self.saved_input(0, self.x).chunk(2, self.axis)
        s = b.sigmoid()
        ga = g * s
        return (cat([ga, ga * a * (1 - s)], self.axis),)


def _halves(x, axis):
    """The two halves of array ``x`` along ``axis``, as views (``np.split`` costs several times more)."""
    half = x.shape[axis] // 2
    before = (slice(None),) * axis
    return x[(*before, slice(None, half))], x[(*before, slice(half, None))]


def _run(op, input, inplace, kernel, *args):
    _check_float(input, kernel)
    if inplace:
        return apply_inplace(input, lambda s: op.apply(s, args=args))
    return op.apply(input, args=args)


def leaky_relu(input, negative_slope=0.01, inplace=False):
    return _run(LeakyRelu, input, inplace, "leaky_relu_cpu", float(negative_slope))


def gelu(input, approximate="none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    return _run(Gelu, input, False, "GeluKernelImpl", approximate)


def elu(input, alpha=1.0, inplace=False):
    return _run(Elu, input, inplace, "elu_cpu", float(alpha), 1.0, 1.0)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input, inplace=False):
    return _run(Elu, input, inplace, "elu_cpu", _SELU_ALPHA, _SELU_SCALE, 1.0)


def celu(input, alpha=1.0, inplace=False):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError: alpha cannot be 0 for CELU")
    return _run(Celu, input, inplace, "elu_cpu", float(alpha), 1.0, 1.0 / alpha)


def silu(input, inplace=False):
    return _run(Silu, input, inplace, "silu_cpu")


def mish(input, inplace=False):
    return _run(Mish, input, inplace, "mish_cpu")


def softplus(input, beta=1.0, threshold=20.0):
    return _run(Softplus, input, False, "softplus_cpu", float(beta), float(threshold))


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")
    return _run(Hardtanh, input, inplace, "hardtanh_cpu", float(min_val), float(max_val))


def relu6(input, inplace=False):
    return hardtanh(input, 0.0, 6.0, inplace)


def hardsigmoid(input, inplace=False):
    return _run(Hardsigmoid, input, inplace, "hardsigmoid_cpu")


def hardswish(input, inplace=False):
    return _run(Hardswish, input, inplace, "hardswish_cpu")


def logsigmoid(input):
    return _run(LogSigmoid, input, False, "log_sigmoid_cpu")


def threshold(input, threshold, value, inplace=False):
    """``value`` where ``input <= threshold``, ``input`` elsewhere."""
    if inplace:
        return _threshold_inplace(input, (threshold, value))
    return Threshold.apply(input, args=(threshold, value))


def rrelu(input, lower=1.0 / 8, upper=1.0 / 3, training=False, inplace=False):
    """leaky_relu with a random negative slope: uniform in [lower, upper] for each element in training (drawn
    from the engine's generator), their mean in eval."""
    _check_float(input, "rrelu_with_noise_out_cpu")
    if lower > upper:
        raise RuntimeError("Lower bound should be less than or equal to the upper bound")
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    x = input._data
    slopes = uniform_array(x.shape, lower, upper, input._device, None, x.dtype)
    noise = xp_of(x).where(x > 0, x.dtype.type(1), slopes)
    if inplace:  # the product with a constant noise array: dropout's node
        return apply_inplace(input, lambda s: Dropout.apply(s, keep=noise))
    return Dropout.apply(input, keep=noise)


def rrelu_(input, lower=1.0 / 8, upper=1.0 / 3, training=False):
    return rrelu(input, lower, upper, training, inplace=True)


def hardshrink(input, lambd=0.5):
    """``input`` where ``|input| > lambd``, 0 elsewhere."""
    return _run(Hardshrink, input, False, "hardshrink_cpu", float(lambd))


def softshrink(input, lambd=0.5):
    """``input`` moved ``lambd`` towards 0, and 0 within ``lambd`` of it."""
    _check_float(input, "softshrink_check")
    dt = input._data.dtype
    if lambd < 0:
        raise RuntimeError(f"lambda must be in range [0, {np.finfo(dt).max:.6g}] for input dtype "
                           f"{legacy_name(dt)}, but found {lambd}")
    return Softshrink.apply(input, args=(float(lambd),))


def _threshold_inplace(input, args):
    return apply_inplace(input, lambda s: Threshold.apply(s, args=args))


def prelu(input, weight):
    """leaky_relu with a learnt slope: ``weight`` has one element or one per channel (axis 1)."""
    _check_float(input, "prelu_cpu")
    ndim, n = input._data.ndim, weight._data.size
    if ndim == 0 and n == 1:
        return Prelu.apply(input, weight)
    if ndim == 0:
        raise RuntimeError("Not allow zero-dim input tensor.")
    if n != 1:
        channels = input._data.shape[1] if ndim > 1 else 1
        if channels != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {channels}.")
    if weight._data.ndim > 1:
        raise RuntimeError(f"prelu: Expected `weight` to be a scalar or 1D tensor, but got: ndim = "
                           f"{weight._data.ndim}")
    return Prelu.apply(input, weight)


def threshold_(input, threshold, value):
    return _threshold_inplace(input, (threshold, value))


def elu_(input, alpha=1.0):
    return elu(input, alpha, inplace=True)


def selu_(input):
    return selu(input, inplace=True)


def celu_(input, alpha=1.0):
    return celu(input, alpha, inplace=True)


def leaky_relu_(input, negative_slope=0.01):
    return leaky_relu(input, negative_slope, inplace=True)


def hardtanh_(input, min_val=-1.0, max_val=1.0):
    return hardtanh(input, min_val, max_val, inplace=True)


def _as_float(input):
    """An integer input in the default float dtype, as PyTorch's composite softsign and tanhshrink compute it."""
    return input if input._data.dtype.kind in FLOAT_KINDS else cast(input, get_default_dtype())


def softsign(input):
    return Softsign.apply(_as_float(input))


def tanhshrink(input):
    return Tanhshrink.apply(_as_float(input))


def softmin(input, dim=None, _stacklevel=3, dtype=None):
    if dim is None:
        warnings.warn("Implicit dimension choice for softmin has been deprecated. Change the call to include dim=X "
                      "as an argument.", stacklevel=_stacklevel - 1)  # PyTorch warns from a helper, a frame deeper
    return softmax(-input, dim, dtype)


def glu(input, dim=-1):
    """The first half of ``input`` along ``dim`` gated by the sigmoid of the second."""
    shape = input._data.shape
    if not shape:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    axis = wrap_dim(dim, len(shape))
    if shape[axis] % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {axis} is size {shape[axis]}")
    _check_float(input, "glu_cpu")
    return Glu.apply(input, axis=axis)


__all__ = ["celu", "celu_", "elu", "elu_", "erf", "gelu", "glu", "hardshrink", "hardsigmoid", "hardswish",
           "hardtanh", "hardtanh_", "leaky_relu", "leaky_relu_", "logsigmoid", "mish", "prelu", "relu6", "rrelu",
           "rrelu_", "selu", "selu_", "silu", "softmin", "softplus", "softshrink", "softsign", "tanhshrink",
           "threshold", "threshold_"]
