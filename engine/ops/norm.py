"""Normalisation layers as single graph nodes with analytic backward: batch_norm, layer_norm, group_norm.

Names, arguments and errors follow ``torch.nn.functional``. Statistics are computed in the input's
dtype (in the array code two passes: the mean, then the mean of squared deviations; layer and group
norm's compiled kernels, ``row_norm_kernels``, take one pass shifted by each row's first value, and
keep the data in cache between reading and writing it). Batch norm's per-channel sums
(the mean, the variance, the gradient's sums) go through ``channel_sums`` (``einsum``): two to three
times faster than reducing over axes (0, 2, 3), with no temporary for products, and as accurate.
"""

import numpy as np

from .. import dtypes
from ..backend import Implementation
from ..dtypes import FLOAT_KINDS, legacy_name
from ..tensor import make_tensor
from . import jit, norm_kernels, row_norm_kernels
from .channel_sums import channel_dot, channel_sum
from .convert import cast
from .op import Op, common_device, xp_of
from .piecewise import constant_in


def _size(shape):
    return f"torch.Size({list(shape)})"


def _verify_batch_size(shape):
    n = shape[0] if shape else 1
    for s in shape[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {_size(shape)}")


def _param_arrays(input, weight, bias):
    """The tensors that take part in the node (input, then weight and bias when given)."""
    tensors = [input]
    if weight is not None:
        tensors.append(weight)
    if bias is not None:
        tensors.append(bias)
    return tensors


_HALF = np.dtype(np.float16)


def _applied(op, input, weight, bias, **options):
    """``op`` on the input and the affine parameters given. float16 runs on float32 copies and its result is
    rounded back, as PyTorch's CPU kernels compute it: NumPy's float16 sums overflow past 65,504 (a variance of
    inf made every output the bias)."""
    tensors = _param_arrays(input, weight, bias)
    if input._data.dtype != _HALF:
        return op.apply(*tensors, **options)
    wide = op.apply(*(cast(t, dtypes.float32) if t._data.dtype == _HALF else t for t in tensors), **options)
    return cast(wide, dtypes.float16)


def _affine_grads(node, gw, gb):
    out = []
    if node.has_weight:
        out.append(gw() if node._edges[1] is not None else None)
    if node.has_bias:
        out.append(gb() if node._edges[-1] is not None else None)
    return out


def _batch_moments(x, bshape):
    """(mean, biased variance, centred input) per channel, two passes in the input's dtype."""
    count = np.float64(x.size // x.shape[1])  # a float16 count could overflow
    mean = (channel_sum(x) / count).astype(x.dtype, copy=False)
    xc = x - mean.reshape(bshape)
    return mean, (channel_dot(xc, xc) / count).astype(x.dtype, copy=False), xc


def _generic_backward(node, g):
    x, w, mean, invstd, bshape = node.x, node.w, node.mean, node.invstd, node.bshape
    need_x = node._edges[0] is not None
    need_w = node.has_weight and node._edges[1] is not None
    xc = None
    gx_sum = None  # sum of g * xhat, xhat = (x - mean) * invstd
    if need_w or (need_x and node.training):
        xc = x - mean.reshape(bshape)
        gx_sum = channel_dot(g, xc) * invstd
    gsum = channel_sum(g) if (node.has_bias or (need_x and node.training)) else None
    gx = None
    if need_x:
        k = invstd if w is None else invstd * w
        gx = g * k.reshape(bshape)
        if node.training:
            n = x.size // x.shape[1]
            kn = k / x.dtype.type(n)
            xc *= (kn * gx_sum * invstd).reshape(bshape)
            gx -= xc
            gx -= (kn * gsum).reshape(bshape)
    return (gx, *_affine_grads(node, lambda: gx_sum, lambda: gsum))


def _update_running(running_mean, running_var, mean, var, momentum, count):
    """The running statistics (those given) moved ``momentum`` of the way to the batch's: its mean, and its
    variance made unbiased over ``count`` values."""
    dt = mean.dtype
    if running_mean is not None:
        running_mean *= 1 - momentum
        running_mean += (mean * dt.type(momentum)).astype(running_mean.dtype, copy=False)
    if running_var is not None:
        running_var *= 1 - momentum
        running_var += (var * dt.type(momentum * count / (count - 1))).astype(running_var.dtype, copy=False)


class _CompiledBatchNorm(Implementation):
    """``norm_kernels``: host float32/float64 inputs with spatial axes; four passes each way, threaded."""

    name = "compiled"

    @staticmethod
    def applies(x, *params, **_):
        return x.ndim >= 3 and x.size > 0 and jit.takes_floats(x)

    @staticmethod
    def moments(x, bshape):
        return (*norm_kernels.moments(x), None)

    @staticmethod
    def normalize(x, mean, scale, b, xc, bshape):
        return norm_kernels.normalize(x, mean, scale, b if b is not None else np.zeros_like(mean))

    @staticmethod
    def grad_sums(g, x, mean, bshape):
        return norm_kernels.grad_sums(g, x, mean)

    @staticmethod
    def grad_input(g, x, mean, k, c_x, c_0, bshape):
        return norm_kernels.grad_input(g, x, mean, k, c_x, c_0)

    @staticmethod
    def backward(node, g):
        """In training, one pass for both sums and one for the input's gradient; in eval, the generic one."""
        if not node.training:
            return _generic_backward(node, g)
        x, w, mean, invstd = node.x, node.w, node.mean, node.invstd
        gsum, gdot = norm_kernels.grad_sums(g, x, mean)
        gx_sum = gdot * invstd
        gx = None
        if node._edges[0] is not None:
            k = invstd if w is None else invstd * w
            kn = k / x.dtype.type(x.size // x.shape[1])
            gx = norm_kernels.grad_input(g, x, mean, k, kn * gx_sum * invstd, kn * gsum)
        return (gx, *_affine_grads(node, lambda: gx_sum, lambda: gsum))


class _GenericBatchNorm(Implementation):
    """Array code for NumPy or CuPy: channel sums through ``channel_sums``."""

    moments = staticmethod(_batch_moments)
    backward = staticmethod(_generic_backward)

    @staticmethod
    def grad_sums(g, x, mean, bshape):
        """Per channel, the sum of ``g`` and of ``g * (x - mean)``."""
        return channel_sum(g), channel_dot(g, x - mean.reshape(bshape))

    @staticmethod
    def grad_input(g, x, mean, k, c_x, c_0, bshape):
        """``g * k - (x - mean) * c_x - c_0`` with per-channel vectors."""
        gx = g * k.reshape(bshape)
        gx -= (x - mean.reshape(bshape)) * c_x.reshape(bshape)
        gx -= c_0.reshape(bshape)
        return gx

    @staticmethod
    def normalize(x, mean, scale, b, xc, bshape):
        if xc is None:
            shift = -mean * scale
            if b is not None:
                shift = shift + b
            y = x * scale.reshape(bshape)
            y += shift.reshape(bshape)
            return y
        y = xc  # (x - mean) * scale + bias, reusing the centred input
        y *= scale.reshape(bshape)
        if b is not None:
            y += b.reshape(bshape)
        return y


class BatchNorm(Op):
    """y = (x - mean) * invstd * weight + bias over channel axis 1; statistics from the batch
    (training) or the running estimates (eval)."""

    __slots__ = ("bshape", "eps", "has_bias", "has_weight", "invstd", "mean", "training", "w", "x")
    _name = "NativeBatchNormBackward0"
    saves = 1
    implementations = (_CompiledBatchNorm, _GenericBatchNorm)

    def forward(self, x, *params, running_mean=None, running_var=None, has_weight=False, has_bias=False,
                training=False, momentum=0.1, eps=1e-5):
        impl = self._impl
        xp = xp_of(x)
        dt = x.dtype
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        w = params[0] if has_weight else None
        b = params[-1] if has_bias else None
        xc = None
        if training:
            mean, var, xc = impl.moments(x, bshape)
            _update_running(running_mean, running_var, mean, var, momentum, x.size // x.shape[1])
        else:
            mean = running_mean.astype(dt, copy=True)
            var = running_var.astype(dt, copy=False)
        invstd = 1 / xp.sqrt(var + dt.type(eps))
        scale = invstd if w is None else invstd * w
        y = impl.normalize(x, mean, scale, b, xc, bshape)
        self.x, self.w, self.mean, self.invstd = x, w, mean, invstd
        self.bshape, self.training, self.eps = bshape, training, eps
        self.has_weight, self.has_bias = has_weight, has_bias
        return y

    def backward_graph(self, g):
        """In training, the statistics recomputed from the input in tensor ops, so that they are differentiated
        too; in eval, constants (and the input's gradient constant in it)."""
        x = self.saved_input(0, self.x)
        bshape = self.bshape
        dims = (0, *range(2, x.ndim))
        if self.training:
            xc = x - x.mean(dims, keepdim=True)
            invstd = ((xc * xc).mean(dims, keepdim=True) + self.eps).rsqrt()
        else:
            xc = x - make_tensor(self.mean.reshape(bshape), x._device)
            invstd = make_tensor(self.invstd.reshape(bshape), x._device)
        xhat = xc * invstd
        need_x = self._edges[0] is not None
        gx = None
        if need_x:
            k = invstd if self.w is None else invstd * self.saved_input(1, self.w).reshape(bshape)
            if self.training:
                gx = (g - g.mean(dims, keepdim=True) - xhat * (g * xhat).mean(dims, keepdim=True)) * k
            else:
                gx = constant_in(g * k, x)
        return (gx, *_affine_grads(self, lambda: (g * xhat).sum(dims), lambda: g.sum(dims)))


class _TooFewValues(Exception):
    """Raised inside the op, where a ValueError would become the RuntimeError of a NumPy error; PyTorch's type
    for it is ValueError, which ``pooled_batch_norm`` raises."""


class PooledBatchNorm(Op):
    """Batch norm in training whose statistics are pooled with other processes': ``combine(mean, var, count)``
    returns the pooled ``(mean, var, count)`` and ``reduce(gsum, gdot)`` the pooled per-channel gradient sums
    (``SyncBatchNorm`` passes collectives; the identity gives ``batch_norm``). The weight and bias gradients are
    this process's own sums."""

    __slots__ = ("bshape", "has_bias", "has_weight", "invstd", "mean", "reduce", "total", "w", "x")
    _name = "SyncBatchNormBackward"
    saves = 1
    implementations = (_CompiledBatchNorm, _GenericBatchNorm)

    def forward(self, x, *params, running_mean=None, running_var=None, has_weight=False, has_bias=False,
                momentum=0.1, eps=1e-5, combine=None, reduce=None):
        impl = self._impl
        xp = xp_of(x)
        dt = x.dtype
        bshape = (1, -1) + (1,) * (x.ndim - 2)
        w = params[0] if has_weight else None
        b = params[-1] if has_bias else None
        mean, var, _ = impl.moments(x, bshape)
        mean, var, total = combine(mean, var, x.size // x.shape[1])
        if total <= 1:
            raise _TooFewValues(f"Expected more than 1 value per channel when training, got {total} over the "
                                f"processes (input size {_size(x.shape)} here)")
        _update_running(running_mean, running_var, mean, var, momentum, total)
        invstd = 1 / xp.sqrt(var + dt.type(eps))
        y = impl.normalize(x, mean, invstd if w is None else invstd * w, b, None, bshape)
        self.x, self.w, self.mean, self.invstd, self.total, self.reduce = x, w, mean, invstd, total, reduce
        self.bshape, self.has_weight, self.has_bias = bshape, has_weight, has_bias
        return y

    def backward(self, g):
        impl, x, w, mean, invstd = self._impl, self.x, self.w, self.mean, self.invstd
        gsum, gdot = impl.grad_sums(g, x, mean, self.bshape)
        gx = None
        if self._edges[0] is not None:
            pooled_sum, pooled_dot = self.reduce(gsum, gdot)
            k = invstd if w is None else invstd * w
            kn = k / x.dtype.type(self.total)
            gx = impl.grad_input(g, x, mean, k, kn * pooled_dot * invstd * invstd, kn * pooled_sum, self.bshape)
        return (gx, *_affine_grads(self, lambda: gdot * invstd, lambda: gsum))


def pooled_batch_norm(input, running_mean, running_var, weight, bias, momentum, eps, combine, reduce):
    """Training-mode batch norm with statistics pooled through ``combine`` and ``reduce`` (``PooledBatchNorm``)."""
    c = input._data.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        _check_channels(name, t, c)
    _check_running_devices(input, running_mean, running_var)
    try:
        return _applied(PooledBatchNorm, input, weight, bias,
                        running_mean=None if running_mean is None else running_mean._data,
                        running_var=None if running_var is None else running_var._data,
                        has_weight=weight is not None, has_bias=bias is not None, momentum=float(momentum),
                        eps=float(eps), combine=combine, reduce=reduce)
    except _TooFewValues as e:
        raise ValueError(str(e)) from None


def _check_running_devices(input, running_mean, running_var):
    """PyTorch's error for running statistics on another device than the input: they are options of the node,
    not its inputs, so ``Op.apply``'s check of its inputs' devices does not see them."""
    common_device([input, *(t for t in (running_mean, running_var) if t is not None)])


def _check_channels(name, t, c):
    if t is not None and t._data.size != c:
        raise RuntimeError(f"{name} should contain {c} elements not {t._data.size}")


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Batch normalisation over channel axis 1 of (N, C), (N, C, L) or (N, C, H, W) inputs.

    In training the batch statistics normalise, and ``running_mean``/``running_var`` (when given) are
    updated in place with ``momentum`` (the running variance uses the unbiased batch variance).
    """
    shape = input._data.shape
    if training:
        _verify_batch_size(shape)
    if training and eps <= 0.0:
        raise ValueError(f"batch_norm eps must be positive during training, but got {eps}")
    if eps < 0.0:
        raise ValueError(f"batch_norm eps must be non-negative, but got {eps}")
    if momentum is None or isinstance(momentum, bool):
        raise TypeError(f"batch_norm(): argument 'momentum' (position 7) must be float, not "
                        f"{type(momentum).__name__ if momentum is not None else 'NoneType'}")
    c = shape[1] if len(shape) > 1 else 0
    if not training and running_mean is None:
        raise RuntimeError("running_mean must be defined in evaluation mode")
    if not training and running_var is None:
        raise RuntimeError("running_var must be defined in evaluation mode")
    _check_channels("running_mean", running_mean, c)
    _check_channels("running_var", running_var, c)
    _check_channels("weight", weight, c)
    _check_channels("bias", bias, c)
    _check_running_devices(input, running_mean, running_var)
    if input._data.dtype.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"batch_norm" not implemented for \'{legacy_name(input._data.dtype)}\'')
    rm = None if running_mean is None else running_mean._data
    rv = None if running_var is None else running_var._data
    return _applied(BatchNorm, input, weight, bias, running_mean=rm, running_var=rv, has_weight=weight is not None,
                    has_bias=bias is not None, training=bool(training), momentum=float(momentum), eps=float(eps))


def _row_stats(rows, eps):
    """(mean, invstd) of each row of the 2-d array ``rows``, two passes in its dtype."""
    dt = rows.dtype
    mean = rows.mean(axis=-1, dtype=dt)
    xc = rows - mean[:, None]
    var = (xc * xc).mean(axis=-1, dtype=dt)
    return mean, 1 / xp_of(rows).sqrt(var + dt.type(eps))


class _CompiledRowNorm(Implementation):
    """``row_norm_kernels``: host float32/float64 inputs; one read and one write of the data each way."""

    name = "compiled"
    layer_forward = staticmethod(row_norm_kernels.layer_forward)
    layer_backward = staticmethod(row_norm_kernels.layer_backward)
    group_forward = staticmethod(row_norm_kernels.group_forward)
    group_backward = staticmethod(row_norm_kernels.group_backward)

    @staticmethod
    def applies(x, *params, **_):
        return x.size > 0 and jit.takes_floats(x)


class _GenericRowNorm(Implementation):
    """Array code for NumPy or CuPy, with the compiled kernels' formulas."""

    @staticmethod
    def layer_forward(x, w, b, m, eps):
        rows = x.reshape(x.size // m if m else 0, m)
        mean, invstd = _row_stats(rows, eps)
        y = rows - mean[:, None]
        y *= invstd[:, None]
        if w is not None:
            y *= w.reshape(m)
        if b is not None:
            y += b.reshape(m)
        return y.reshape(x.shape), mean, invstd

    @staticmethod
    def layer_backward(g, x, mean, invstd, w, need_x, need_params):
        m = x.size // mean.size if mean.size else x.size
        rows, g2 = x.reshape(mean.size, m), g.reshape(mean.size, m)
        xhat = (rows - mean[:, None]) * invstd[:, None]
        gx = None
        if need_x:
            gh = g2 if w is None else g2 * w.reshape(m)
            gx = gh - gh.mean(axis=-1, keepdims=True)
            gx -= xhat * (gh * xhat).mean(axis=-1, keepdims=True)
            gx *= invstd[:, None]
            gx = gx.reshape(x.shape)
        sums = xp_of(x).stack(((g2 * xhat).sum(axis=0), g2.sum(axis=0))) if need_params else None
        return gx, sums

    @staticmethod
    def group_forward(x, w, b, groups, eps):
        n, c = x.shape[0], x.shape[1]
        rows = x.reshape(n * groups, c // groups * _prod(x.shape[2:]))
        mean, invstd = _row_stats(rows, eps)
        y = rows - mean[:, None]
        y *= invstd[:, None]
        y = y.reshape(x.shape)
        bshape = (1, c) + (1,) * (x.ndim - 2)
        if w is not None:
            y *= w.reshape(bshape)
        if b is not None:
            y += b.reshape(bshape)
        return y, mean, invstd

    @staticmethod
    def group_backward(g, x, mean, invstd, w, groups, need_x):
        n, c = x.shape[0], x.shape[1]
        vshape = (n, groups, c // groups, _prod(x.shape[2:]))
        gv, xv = g.reshape(vshape), x.reshape(vshape)
        mu, rs = mean.reshape(n, groups, 1, 1), invstd.reshape(n, groups, 1, 1)
        xc = xv - mu
        gsum, gdot = gv.sum(axis=-1), (gv * xc).sum(axis=-1)
        gx = None
        if need_x:
            wv = xp_of(x).ones((1, groups, c // groups, 1), dtype=x.dtype) if w is None else w.reshape(1, groups, -1, 1)
            m = x.dtype.type(xv.shape[2] * xv.shape[3])
            a = (gsum[..., None] * wv).sum(axis=2, keepdims=True)
            d = (gdot[..., None] * wv).sum(axis=2, keepdims=True)
            gx = gv * (rs * wv)
            xc *= -rs * rs * rs * d / m
            gx += xc
            gx -= rs * a / m
            gx = gx.reshape(x.shape)
        return gx, gsum.reshape(n, c), gdot.reshape(n, c)


class _RowNorm(Op):
    """Normalise each row of a (rows, M) view of the input over its M values (rows: a sample's trailing values,
    or a sample's group of channels), then scale and shift with the affine parameters."""

    __slots__ = ("eps", "has_bias", "has_weight", "invstd", "mean", "w", "x")
    saves = 1
    implementations = (_CompiledRowNorm, _GenericRowNorm)

    def _keep(self, x, params, has_weight, has_bias, eps):
        """Keep what backward reads; the weight and bias arrays among ``params`` (either may be absent)."""
        self.x, self.eps, self.has_weight, self.has_bias = x, eps, has_weight, has_bias
        self.w = params[0] if has_weight else None
        return self.w, (params[-1] if has_bias else None)

    def _need_params(self):
        return (self.has_weight and self._edges[1] is not None) or (self.has_bias and self._edges[-1] is not None)

    def backward_graph(self, g):
        """The same formula in tensor ops, with the statistics recomputed from the input so that they are
        differentiated too."""
        x = self.saved_input(0, self.x)
        rows = self.mean.size
        m = x.numel() // rows if rows else 0
        xc = x.reshape(rows, m)
        xc = xc - xc.mean(-1, keepdim=True)
        invstd = ((xc * xc).mean(-1, keepdim=True) + self.eps).rsqrt()
        xhat = xc * invstd
        gx = None
        if self._edges[0] is not None:
            gh = (g if self.w is None else g * self.saved_input(1, self.w).reshape(self._param_view(x.ndim)))
            gh = gh.reshape(rows, m)
            gx = (gh - gh.mean(-1, keepdim=True) - xhat * (gh * xhat).mean(-1, keepdim=True)) * invstd
            gx = gx.reshape(g.shape)
        return (gx, *_affine_grads(self, lambda: self._param_sum(g * xhat.reshape(g.shape)),
                                   lambda: self._param_sum(g)))


class LayerNorm(_RowNorm):
    __slots__ = ("k",)
    _name = "NativeLayerNormBackward0"

    def forward(self, x, *params, k=1, has_weight=False, has_bias=False, eps=1e-5):
        w, b = self._keep(x, params, has_weight, has_bias, eps)
        self.k = k
        y, self.mean, self.invstd = self._impl.layer_forward(x, w, b, _prod(x.shape[x.ndim - k:]), eps)
        return y

    def backward(self, g):
        x = self.x
        gx, sums = self._impl.layer_backward(g, x, self.mean, self.invstd, self.w, self._edges[0] is not None,
                                             self._need_params())
        pshape = x.shape[x.ndim - self.k:]
        return (gx, *_affine_grads(self, lambda: sums[0].astype(x.dtype, copy=False).reshape(pshape),
                                   lambda: sums[1].astype(x.dtype, copy=False).reshape(pshape)))

    def _param_view(self, ndim):
        return self.w.shape

    def _param_sum(self, a):
        """The sum over the leading axes of a tensor ``a``."""
        lead = a.ndim - self.k
        return a.sum(tuple(range(lead))) if lead else a


def _prod(shape):
    n = 1
    for s in shape:
        n *= s
    return n


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalise over the trailing ``normalized_shape`` dimensions, then scale and shift elementwise."""
    ns = checked_normalized_shape("layer_norm", input, normalized_shape, weight=weight, bias=bias)
    _check_dtypes("LayerNormKernelImpl", input, weight, bias)
    return _applied(LayerNorm, input, weight, bias, k=len(ns), has_weight=weight is not None,
                    has_bias=bias is not None, eps=float(eps))


def _check_dtypes(kernel, input, *params):
    """PyTorch's CPU errors for a non-float input, and for parameters of another dtype than the input's (allowed
    only as float32 parameters of a bfloat16 or float16 input)."""
    dt = input._data.dtype
    if dt.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{legacy_name(dt)}\'')
    given = [p._data.dtype for p in params if p is not None]
    if given and given[0] != dt:
        if any(p != np.float32 for p in given):
            raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        if dt.itemsize != 2:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


def checked_normalized_shape(name, input, normalized_shape, **params):
    """``normalized_shape`` (a sequence of ints, or an int as the modules take it) as a tuple, checked against the
    input's trailing sizes and the shapes of the affine ``params`` given, with PyTorch's errors for ``name``."""
    if isinstance(normalized_shape, (int, np.integer)):
        normalized_shape = (normalized_shape,)
    ns = tuple(normalized_shape)
    for pos, s in enumerate(ns):
        if s.__class__ is not int:
            if not isinstance(s, (int, np.integer)):
                raise TypeError(f"{name}(): argument 'normalized_shape' (position 2) must be tuple of ints, but "
                                f"found element of type {type(s).__name__} at pos {pos}")
            ns = tuple(int(s) for s in ns)
    if not ns:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    shape = input._data.shape
    k = len(ns)
    if len(shape) < k or shape[len(shape) - k:] != ns:
        star = "*, " if name == "layer_norm" else "*"  # the two messages differ there
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape [{star}"
                           f"{', '.join(str(s) for s in ns)}], but got input of size{list(shape)}")
    for pname, t in params.items():
        if t is not None and t._data.shape != ns:
            raise RuntimeError(f"Expected {pname} to be of same shape as normalized_shape, but got {pname} of shape "
                               f"{list(t._data.shape)} and normalized_shape = {list(ns)}")
    return ns


class GroupNorm(_RowNorm):
    __slots__ = ("groups",)
    _name = "NativeGroupNormBackward0"

    def forward(self, x, *params, num_groups=1, has_weight=False, has_bias=False, eps=1e-5):
        w, b = self._keep(x, params, has_weight, has_bias, eps)
        self.groups = num_groups
        y, self.mean, self.invstd = self._impl.group_forward(x, w, b, num_groups, eps)
        return y

    def backward(self, g):
        x, invstd = self.x, self.invstd
        groups = self.groups
        gx, gsum, gdot = self._impl.group_backward(g, x, self.mean, invstd, self.w, groups,
                                                   self._edges[0] is not None)
        n, c = gsum.shape

        def gw():
            return (gdot.reshape(n, groups, c // groups) * invstd.reshape(n, groups, 1)).sum(axis=0).reshape(c)

        return (gx, *_affine_grads(self, lambda: gw().astype(x.dtype, copy=False),
                                   lambda: gsum.sum(axis=0).astype(x.dtype, copy=False)))

    def _param_view(self, ndim):
        return (1, self.w.size) + (1,) * (ndim - 2)

    def _param_sum(self, a):
        """The sum over all axes but the channels of a tensor ``a``."""
        return a.sum((0, *range(2, a.ndim)))


def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalise over groups of channels (and all spatial positions) of each sample; per-channel affine."""
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    _verify_batch_size_list([shape[0] * shape[1] // num_groups, num_groups, *shape[2:]])
    c = shape[1]
    if c % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(shape)} and num_groups={num_groups}")
    for name, t in (("weight", weight), ("bias", bias)):
        if t is not None and (t._data.ndim != 1 or t._data.size != c):
            raise RuntimeError(f"Expected {name} to be a vector of size equal to the number of channels in input, "
                               f"but got {name} of shape {list(t._data.shape)} and input of shape {list(shape)}")
    _check_dtypes("GroupNormKernelImpl", input, weight, bias)
    return _applied(GroupNorm, input, weight, bias, num_groups=int(num_groups), has_weight=weight is not None,
                    has_bias=bias is not None, eps=float(eps))


def _verify_batch_size_list(size):
    n = size[0]
    for s in size[2:]:
        n *= s
    if n == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")


__all__ = ["batch_norm", "group_norm", "layer_norm"]
