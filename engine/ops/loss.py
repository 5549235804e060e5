"""Loss functions, each one graph node with an analytic backward: cross_entropy (log_softmax and NLL
fused, with class weights, ignore_index, label smoothing and probability targets), nll_loss, mse_loss,
l1_loss, smooth_l1_loss, huber_loss, binary_cross_entropy(_with_logits).

Names, arguments, reductions and errors follow ``torch.nn.functional``.
"""

import warnings

import numpy as np

from ..backend import transfer
from ..dtypes import FLOAT_KINDS, legacy_name
from ..tensor import make_tensor
from . import total_kernels
from .activation import log_sigmoid, logsigmoid, stable_sigmoid
from .convert import promote_pair
from .op import Op, sum_to, unbroadcast, xp_of
from .piecewise import constant_in


# ----- shared helpers -----
def _size(shape):
    return f"torch.Size({list(shape)})"


def _reduction(reduction, size_average=None, reduce=None, stacklevel=3):
    """PyTorch's reduction string, from ``reduction`` or the legacy ``size_average``/``reduce``."""
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = "mean" if size_average and reduce else ("sum" if reduce else "none")
        warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{reduction}' "
                      "instead.", stacklevel=stacklevel)
        return reduction
    if reduction in ("none", "mean", "sum"):
        return reduction
    if reduction == "elementwise_mean":
        warnings.warn("reduction='elementwise_mean' is deprecated. Please use reduction='mean' instead.",
                      stacklevel=stacklevel)
        return "mean"
    raise ValueError(f"{reduction} is not a valid value for reduction")


def reduce_loss(loss, reduction):
    """ATen's apply_loss_reduction on a tensor of per-element losses (the composite losses' last step)."""
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _total(a):
    """The sum of all of array ``a``'s values as ``sum()`` and ``mean()`` compute it (the compiled kernel where it
    applies), so that a loss's reduction equals the same reduction of its elementwise losses."""
    return total_kernels.total(a) if total_kernels.applies(a) else a.sum()


def _reduce(loss, reduction):
    if reduction == "none":
        return loss
    xp = xp_of(loss)
    s = _total(loss)
    if reduction == "sum":
        return xp.asarray(s, dtype=loss.dtype)
    return xp.asarray(s / loss.dtype.type(loss.size) if loss.size else s * np.nan, dtype=loss.dtype)


def _const(array, like):
    """An array (a mask, weights, indices turned one-hot) as a constant tensor of ``like``'s dtype and device."""
    return make_tensor(array.astype(like._data.dtype, copy=False), like._device)


def _grad_of_reduced(g, shape, reduction, dtype):
    """The upstream gradient (an array, or a tensor in a double backward) of each element of an unreduced
    loss of ``shape``."""
    if reduction == "none":
        return g
    n = 1
    for s in shape:
        n *= s
    if reduction == "mean":
        g = g / dtype.type(n) if n else g * np.nan
    return g


def _check_weight_dtype(weight, np_dtype):
    if weight is not None and weight._data.dtype != np_dtype:
        raise RuntimeError(f"expected scalar type {legacy_name(np_dtype)} but found "
                           f"{legacy_name(weight._data.dtype)}")


def _class_weight(weight, n_classes, np_dtype, prefix=""):
    if weight is None:
        return None
    w = weight._data
    if w.ndim != 1 or w.size != n_classes:
        raise RuntimeError(f"{prefix}weight tensor should be defined either for all {n_classes} classes or no "
                           f"classes but got weight tensor of shape: {list(w.shape)}")
    _check_weight_dtype(weight, np_dtype)
    return w


# ----- class-index targets: the NLL core shared by cross_entropy and nll_loss -----
def _check_class_targets(x, t):
    """PyTorch's nll_loss_nd checks on input (N, C, d1, ...) or (C,) and class-index target."""
    xs, ts = x.shape, t.shape
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim != 1 and (t.ndim == 0 or xs[0] != ts[0]):
        raise ValueError(f"Expected input batch_size ({xs[0]}) to match target batch_size "
                         f"({ts[0] if t.ndim else 1}).")
    if x.ndim <= 2:
        if t.ndim > 1:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if x.ndim == 1 and t.ndim == 1 and ts[0] != 1:
            raise RuntimeError(f"size mismatch (got input: {list(xs)}, target: {list(ts)})")
    elif x.ndim == 4:
        if t.ndim != 3:
            raise RuntimeError(f"only batches of spatial targets supported (3D tensors) but got targets of "
                               f"dimension: {t.ndim}")
        if ts[1:] != xs[2:]:
            raise RuntimeError(f"size mismatch (got input: {list(xs)} , target: {list(ts)}")
    elif ts[1:] != xs[2:]:
        raise RuntimeError(f"Expected target size {[xs[0], *xs[2:]]}, got {list(ts)}")
    if t.dtype != np.int64 and t.dtype != np.uint8:
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {legacy_name(t.dtype)}")


def _as_batched(x, t):
    """(C,) input and its 0-d/(1,) target as a batch of one: (1, C) and (1,)."""
    if x.ndim == 1:
        return x.reshape(1, -1), t.reshape(1)
    return x, t


def _picked(t, ignore_index, n_classes, w, dtype):
    """Targets made safe to index with, and each target's weight (0 where ignored)."""
    xp = xp_of(t)
    t = t.astype(np.int64, copy=False)
    valid = t != ignore_index
    bad = valid & ((t < 0) | (t >= n_classes))
    if bad.any():
        raise IndexError(f"Target {int(t[bad].reshape(-1)[0])} is out of bounds.")
    safe = xp.where(valid, t, 0)
    wt = valid.astype(dtype) if w is None else xp.where(valid, w[safe], dtype.type(0))
    return safe, wt


def _gather_classes(a, safe):
    """``a[n, safe[n, ...], ...]``: the class axis 1 picked by the target, dropped."""
    return xp_of(a).take_along_axis(a, safe[:, None], axis=1)[:, 0]


def _class_shape(ndim):
    return (1, -1) + (1,) * (ndim - 2)


def _log_softmax(x):
    xp = xp_of(x)
    m = x.max(axis=1, keepdims=True)
    z = x - xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(z)
    s = e.sum(axis=1, keepdims=True)
    return z - xp.log(s)



def _onehot(safe, c):
    """(N, C, d1, ...) booleans: the target class of each row."""
    return xp_of(safe).arange(c).reshape(_class_shape(safe.ndim + 1)) == safe[:, None]


def _row_grad(node, g):
    """The gradient of each row's loss of a class-index loss (N, d1, ...), from the upstream array ``g``."""
    if node.reduction == "none":
        return g.reshape(node.wt.shape)
    return g / _mean_divisor(node.denom) if node.reduction == "mean" else g


def _row_grad_graph(node, g):
    """``_row_grad`` of the upstream tensor ``g``, shaped to broadcast over the class axis."""
    if node.reduction == "none":
        return g.reshape(node.wt.shape).unsqueeze(1)
    return g / make_tensor(_mean_divisor(node.denom), g._device) if node.reduction == "mean" else g


def _mean_divisor(total_weight):
    """The weight sum a 'mean' loss's gradient divides by; 1 where it is 0 (every target ignored), where the
    gradient is zero, as PyTorch's is (the weights that multiply it are all zero), not 0/0."""
    return xp_of(total_weight).where(total_weight > 0, total_weight, 1)

class CrossEntropy(Op):
    """log_softmax over the class axis and the weighted NLL of class-index targets, with smoothing."""

    __slots__ = ("denom", "logp", "ls", "reduction", "safe", "shape", "valid", "w", "wt", "x")
    _name = "NllLossBackward0"
    saves = 1

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        shape = x.shape
        self.x = x  # for the double backward
        x, t = _as_batched(x, target)
        c = x.shape[1]
        dtype = x.dtype
        safe, wt = _picked(t, ignore_index, c, weight, dtype)
        logp = _log_softmax(x)
        loss = -(wt * _gather_classes(logp, safe))
        ls = label_smoothing
        self.valid = None
        if ls > 0:
            self.valid = valid = t != ignore_index
            if weight is None:
                smooth = -logp.sum(axis=1)
            else:
                smooth = -(logp * weight.reshape(_class_shape(x.ndim))).sum(axis=1)
            smooth = xp_of(x).where(valid, smooth, dtype.type(0))
            loss = loss * dtype.type(1 - ls) + smooth * dtype.type(ls / c)
        self.logp, self.safe, self.wt, self.w, self.ls = logp, safe, wt, weight, ls
        self.reduction, self.shape = reduction, shape
        if reduction == "none":
            return loss.reshape(()) if len(shape) == 1 else loss
        total = _total(loss)
        if reduction == "sum":
            return xp_of(x).asarray(total, dtype=dtype)
        self.denom = denom = wt.sum()
        return xp_of(x).asarray(total / denom, dtype=dtype)

    def _smoothing_terms(self, onehot):
        """With label smoothing the input's gradient is ``softmax(x) * scale - shift``: (scale, shift)."""
        logp, wt, w, ls = self.logp, self.wt, self.w, self.ls
        dtype = logp.dtype
        c = logp.shape[1]
        valid = self.valid[:, None]
        a = (wt * dtype.type(1 - ls))[:, None]
        k = dtype.type(ls / c)
        wsum = dtype.type(c) if w is None else w.sum()
        shift = onehot * a
        shift += valid * (k if w is None else w.reshape(_class_shape(logp.ndim)) * k)
        return a + valid * (wsum * k), shift

    def backward(self, g):
        logp, wt = self.logp, self.wt
        gi = _row_grad(self, g)
        p = xp_of(logp).exp(logp)
        onehot = _onehot(self.safe, logp.shape[1])
        if self.ls > 0:
            scale, shift = self._smoothing_terms(onehot)
            grad = p * scale
            grad -= shift
        else:
            grad = (p - onehot) * wt[:, None]
        grad *= gi if gi.ndim == 0 else gi[:, None]
        return (grad.reshape(self.shape),)

    def backward_graph(self, g):
        x = self.saved_input(0, self.x)
        p = x.reshape(self.logp.shape).softmax(1)
        onehot = _onehot(self.safe, self.logp.shape[1])
        if self.ls > 0:
            scale, shift = self._smoothing_terms(onehot)
            grad = p * _const(scale, x) - _const(shift, x)
        else:
            grad = (p - _const(onehot, x)) * _const(self.wt[:, None], x)
        return ((grad * _row_grad_graph(self, g)).reshape(self.shape),)


class NllLoss(Op):
    __slots__ = ("c", "denom", "reduction", "safe", "shape", "wt", "x")
    _name = "NllLossBackward0"
    saves = 1

    def forward(self, x, target=None, weight=None, ignore_index=-100, reduction="mean"):
        shape = x.shape
        self.x = x  # the double backward's zero derivative reaches it, as in PyTorch
        x, t = _as_batched(x, target)
        dtype = x.dtype
        safe, wt = _picked(t, ignore_index, x.shape[1], weight, dtype)
        loss = -(wt * _gather_classes(x, safe))
        self.safe, self.wt, self.reduction, self.shape, self.c = safe, wt, reduction, shape, x.shape[1]
        xp = xp_of(x)
        if reduction == "none":
            return loss.reshape(()) if len(shape) == 1 else loss
        total = _total(loss)
        if reduction == "sum":
            return xp.asarray(total, dtype=dtype)
        self.denom = denom = wt.sum()
        return xp.asarray(total / denom, dtype=dtype)

    def backward(self, g):
        coef = -self.wt * _row_grad(self, g)
        return ((_onehot(self.safe, self.c) * coef[:, None]).astype(coef.dtype, copy=False).reshape(self.shape),)

    def backward_graph(self, g):
        """Linear in ``g``: the same one-hot rows, tied to the input with a zero derivative."""
        x = self.saved_input(0, self.x)
        grad = _const(_onehot(self.safe, self.c) * -self.wt[:, None], x) * _row_grad_graph(self, g)
        return (constant_in(grad.reshape(self.shape), x),)


class CrossEntropyProb(Op):
    """Cross entropy against class probabilities (target of the input's shape), with smoothing."""

    __slots__ = ("logp", "ls", "reduction", "shape", "t", "ts", "w", "x")
    _name = "CrossEntropyBackward0"
    saves = 1

    def forward(self, x, t, weight=None, reduction="mean", label_smoothing=0.0):
        shape = x.shape
        self.x, self.t = x, t  # for the double backward
        if x.ndim == 1:
            x, t = x.reshape(1, -1), t.reshape(1, -1)
        c = x.shape[1]
        dtype = x.dtype
        ls = label_smoothing
        ts = t * dtype.type(1 - ls) + dtype.type(ls / c) if ls > 0 else t
        if weight is not None:
            ts = ts * weight.reshape(_class_shape(x.ndim))
        logp = _log_softmax(x)
        loss = -(logp * ts).sum(axis=1)
        self.logp, self.ts, self.w, self.ls, self.reduction, self.shape = logp, ts, weight, ls, reduction, shape
        xp = xp_of(x)
        if reduction == "none":
            return loss.reshape(()) if len(shape) == 1 else loss
        total = _total(loss)
        if reduction == "sum":
            return xp.asarray(total, dtype=dtype)
        return xp.asarray(total / dtype.type(loss.size) if loss.size else total * np.nan, dtype=dtype)

    def backward(self, g):
        logp, ts = self.logp, self.ts
        xp = xp_of(logp)
        dtype = logp.dtype
        rows = logp.size // logp.shape[1]
        if self.reduction == "none":
            gi = g.reshape(logp.shape[:1] + logp.shape[2:])[:, None]
        else:
            gi = g / dtype.type(rows) if self.reduction == "mean" else g
        ex, et = self._edges
        gx = gt = None
        if ex is not None:
            gx = xp.exp(logp) * ts.sum(axis=1, keepdims=True)
            gx -= ts
            gx *= gi
            gx = gx.reshape(self.shape)
        if et is not None:
            gt = -logp * gi
            if self.w is not None:
                gt *= self.w.reshape(_class_shape(logp.ndim))
            if self.ls > 0:
                gt *= dtype.type(1 - self.ls)
            gt = gt.reshape(self.shape)
        return gx, gt

    def backward_graph(self, g):
        shape = self.logp.shape
        c = shape[1]
        ls, w = self.ls, self.w
        logp = self.saved_input(0, self.x).reshape(shape).log_softmax(1)
        t = self.saved_input(1, self.t).reshape(shape)
        ts = t * (1 - ls) + ls / c if ls > 0 else t
        cw = None if w is None else _const(w.reshape(_class_shape(len(shape))), logp)
        if cw is not None:
            ts = ts * cw
        if self.reduction == "none":
            gi = g.reshape(shape[:1] + shape[2:]).unsqueeze(1)
        else:
            gi = g / (self.logp.size // c) if self.reduction == "mean" else g
        ex, et = self._edges
        gx = gt = None
        if ex is not None:
            gx = ((logp.exp() * ts.sum(1, keepdim=True) - ts) * gi).reshape(self.shape)
        if et is not None:
            gt = -logp * gi
            if cw is not None:
                gt = gt * cw
            gt = (gt * (1 - ls) if ls > 0 else gt).reshape(self.shape)
        return gx, gt


def _float_input(input, kernel):
    if input._data.dtype.kind not in FLOAT_KINDS:
        raise NotImplementedError(f'"{kernel}" not implemented for \'{legacy_name(input._data.dtype)}\'')


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0):
    """Cross entropy between logits ``input`` (N, C, d1, ...) or (C,) and class indices or class
    probabilities ``target``: log_softmax and NLL as one graph node."""
    reduction = _reduction(reduction, size_average, reduce)
    x, t = input._data, target._data
    if x.shape == t.shape:
        if t.dtype.kind not in FLOAT_KINDS:
            raise RuntimeError(f"Expected floating point type for target with class probabilities, got "
                               f"{legacy_name(t.dtype)}")
        if label_smoothing < 0 or label_smoothing > 1:
            raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
        _float_input(input, "log_softmax_lastdim_kernel_impl")
        c = x.shape[1] if x.ndim > 1 else x.shape[0] if x.ndim else 1
        w = _class_weight(weight, c, x.dtype, "cross_entropy: ")
        input, target = promote_pair(input, target)
        return CrossEntropyProb.apply(input, target, weight=w, reduction=reduction,
                                      label_smoothing=float(label_smoothing))
    if label_smoothing > 1 or label_smoothing < 0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    _check_class_targets(x, t)
    _float_input(input, "log_softmax_lastdim_kernel_impl")
    w = _class_weight(weight, x.shape[1] if x.ndim > 1 else x.shape[0], x.dtype)
    return CrossEntropy.apply(input, target=t, weight=w, ignore_index=int(ignore_index), reduction=reduction,
                              label_smoothing=float(label_smoothing))


def nll_loss(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None, reduction="mean"):
    """Negative log likelihood of class-index ``target`` under log-probabilities ``input``."""
    reduction = _reduction(reduction, size_average, reduce)
    x, t = input._data, target._data
    _check_class_targets(x, t)
    _float_input(input, "nll_loss_forward_reduce_cuda_kernel_2d_index")
    w = _class_weight(weight, x.shape[1] if x.ndim > 1 else x.shape[0], x.dtype)
    return NllLoss.apply(input, target=t, weight=w, ignore_index=int(ignore_index), reduction=reduction)


# ----- regression losses: elementwise in (input - target), broadcasting, optional weight -----
class _PointwiseLoss(Op):
    """``reduce(weight * f(input - target))``; backward through ``df``. Inputs: input, target[, weight]."""

    __slots__ = ("d", "denom", "param", "reduction", "shapes", "t", "w", "wl", "x")
    saves = 1

    def forward(self, x, t, w=None, reduction="mean", param=None, weighted_mean=True):
        self.x, self.t = x, t  # for the double backward
        d = x - t
        self.d, self.param, self.reduction = d, param, reduction
        self.shapes = (x.shape, t.shape, None if w is None else w.shape)
        loss = self.f(d, param)
        self.wl = None
        if w is not None:
            self.wl = loss  # the unweighted loss, for the weight's gradient
            loss = loss * w
            self.denom = w.sum() if reduction == "mean" and weighted_mean else None
            self.w = w
        else:
            self.w = None
            self.denom = None
        if reduction == "none":
            return loss
        total = _total(loss)
        xp = xp_of(d)
        if reduction == "sum":
            return xp.asarray(total, dtype=loss.dtype)
        if self.denom is not None:
            return xp.asarray(total / self.denom, dtype=loss.dtype)
        return xp.asarray(total / loss.dtype.type(loss.size) if loss.size else total * np.nan, dtype=loss.dtype)

    def backward(self, g):
        d, w = self.d, self.w
        dtype = d.dtype
        if self.denom is not None:
            gi = g / self.denom
        else:
            shape = d.shape if w is None else np.broadcast_shapes(d.shape, w.shape)
            gi = _grad_of_reduced(g, shape, self.reduction, dtype)
        gw = gi if w is None else gi * w
        gd = self.df(d, self.param) * gw
        sx, st, sw = self.shapes
        ex, et = self._edges[0], self._edges[1]
        out = [None if ex is None else unbroadcast(gd, sx), None if et is None else unbroadcast(-gd, st)]
        if sw is not None:
            ew = self._edges[2]
            if ew is None:
                out.append(None)
            else:
                gwt = self.wl * gi
                if self.denom is not None:  # d/dw of sum(w * l) / sum(w)
                    total = (self.wl * w).sum() / self.denom
                    gwt = gwt - total * gi
                out.append(unbroadcast(gwt, sw))
        return tuple(out)

    def backward_graph(self, g):
        d = self.saved_input(0, self.x) - self.saved_input(1, self.t)
        w = None if self.w is None else self.saved_input(2, self.w)
        if self.denom is not None:
            gi = g / w.sum()
        else:
            shape = d.shape if w is None else np.broadcast_shapes(tuple(d.shape), tuple(w.shape))
            gi = _grad_of_reduced(g, shape, self.reduction, self.d.dtype)
        gd = self.df_graph(d, self.param) * (gi if w is None else gi * w)
        sx, st, sw = self.shapes
        ex, et = self._edges[0], self._edges[1]
        out = [None if ex is None else sum_to(gd, sx), None if et is None else sum_to(-gd, st)]
        if sw is not None:
            gwt = None
            if self._edges[2] is not None:
                wl = self.f_graph(d, self.param)
                gwt = wl * gi
                if self.denom is not None:
                    gwt = gwt - (wl * w).sum() / w.sum() * gi
                gwt = sum_to(gwt, sw)
            out.append(gwt)
        return tuple(out)


class MseLoss(_PointwiseLoss):
    __slots__ = ()
    _name = "MseLossBackward0"

    @staticmethod
    def f(d, param):
        return d * d

    @staticmethod
    def df(d, param):
        return d * d.dtype.type(2)

    @staticmethod
    def f_graph(d, param):
        return d * d

    @staticmethod
    def df_graph(d, param):
        return d * 2


class L1Loss(_PointwiseLoss):
    __slots__ = ()
    _name = "L1LossBackward0"

    @staticmethod
    def f(d, param):
        return xp_of(d).abs(d)

    @staticmethod
    def df(d, param):
        return xp_of(d).sign(d)

    @staticmethod
    def f_graph(d, param):
        return d.abs()

    @staticmethod
    def df_graph(d, param):
        return d.sign()  # zero derivative, in the graph of d


class SmoothL1Loss(_PointwiseLoss):
    __slots__ = ()
    _name = "SmoothL1LossBackward0"

    @staticmethod
    def f(d, beta):
        xp = xp_of(d)
        a = xp.abs(d)
        return xp.where(a < beta, d * d * d.dtype.type(0.5 / beta), a - d.dtype.type(0.5 * beta))

    @staticmethod
    def df(d, beta):
        xp = xp_of(d)
        return xp.clip(d * d.dtype.type(1 / beta), -1, 1)

    @staticmethod
    def df_graph(d, beta):
        return (d * (1 / beta)).clamp(-1, 1)


class HuberLoss(_PointwiseLoss):
    __slots__ = ()
    _name = "HuberLossBackward0"

    @staticmethod
    def f(d, delta):
        xp = xp_of(d)
        a = xp.abs(d)
        return xp.where(a < delta, d * d * d.dtype.type(0.5), (a - d.dtype.type(0.5 * delta)) * d.dtype.type(delta))

    @staticmethod
    def df(d, delta):
        return xp_of(d).clip(d, -delta, delta)

    @staticmethod
    def f_graph(d, delta):
        a = d.abs()
        near = a._data < delta
        return d * d * _const(near * 0.5, d) + (a - 0.5 * delta) * _const(~near * delta, d)

    @staticmethod
    def df_graph(d, delta):
        return d.clamp(-delta, delta)


def _pointwise(op, input, target, reduction, weight, param=None, weighted_mean=True, kernel=""):
    """Called by the public loss itself: the warning points at the user's call."""
    if target._data.shape != input._data.shape:
        warnings.warn(f"Using a target size ({_size(target._data.shape)}) that is different to the input size "
                      f"({_size(input._data.shape)}). This will likely lead to incorrect results due to "
                      "broadcasting. Please ensure they have the same size.", stacklevel=3)
    input, target = promote_pair(input, target)
    _float_input(input, kernel)
    if weight is not None:
        if weight._data.shape != input._data.shape:
            raise ValueError("Weights and input must have the same size.")
        return op.apply(input, target, weight, reduction=reduction, param=param, weighted_mean=weighted_mean)
    return op.apply(input, target, reduction=reduction, param=param)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean squared error; with ``weight``, the mean is ``sum(weight * se) / sum(weight)``."""
    reduction = _reduction(reduction, size_average, reduce)
    return _pointwise(MseLoss, input, target, reduction, weight, kernel="mse_cpu")


def l1_loss(input, target, size_average=None, reduce=None, reduction="mean", weight=None):
    """Mean absolute error; with ``weight``, the mean is ``sum(weight * ae) / sum(weight)``."""
    reduction = _reduction(reduction, size_average, reduce)
    return _pointwise(L1Loss, input, target, reduction, weight, kernel="abs_cpu")


def smooth_l1_loss(input, target, size_average=None, reduce=None, reduction="mean", beta=1.0):
    """Quadratic below ``beta`` (``0.5 d^2 / beta``), linear above (``|d| - 0.5 beta``)."""
    reduction = _reduction(reduction, size_average, reduce)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    if beta == 0:
        return _pointwise(L1Loss, input, target, reduction, None, kernel="abs_cpu")
    return _pointwise(SmoothL1Loss, input, target, reduction, None, param=float(beta), kernel="smooth_l1_cpu")


def huber_loss(input, target, reduction="mean", delta=1.0, weight=None):
    """Quadratic below ``delta`` (``0.5 d^2``), linear above (``delta (|d| - 0.5 delta)``)."""
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    if weight is None:
        reduction = _reduction(reduction)
    elif reduction not in ("none", "mean", "sum"):
        raise ValueError(f"Invalid reduction mode: {reduction}. Expected one of 'none', 'mean', 'sum'.")
    return _pointwise(HuberLoss, input, target, reduction, weight, param=float(delta), weighted_mean=False,
                      kernel="huber_cpu")


# ----- binary cross entropy -----
class BinaryCrossEntropyWithLogits(Op):
    __slots__ = ("pw", "reduction", "shapes", "t", "w", "x")
    _name = "BinaryCrossEntropyWithLogitsBackward0"
    saves = 1

    def forward(self, x, t, weight=None, pos_weight=None, reduction="mean"):
        logsig = log_sigmoid(x)
        if pos_weight is not None:
            lw = (pos_weight - 1) * t + 1
            loss = (1 - t) * x - lw * logsig
        else:
            loss = (1 - t) * x - logsig
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.w, self.pw, self.reduction = x, t, weight, pos_weight, reduction
        self.shapes = (x.shape, t.shape, loss.shape)
        return _reduce(loss, reduction)

    def backward(self, g):
        x, t, w, pw = self.x, self.t, self.w, self.pw
        sx, st, sl = self.shapes
        gi = _grad_of_reduced(g, sl, self.reduction, x.dtype)
        if w is not None:
            gi = gi * w
        ex, et = self._edges
        gx = gt = None
        if ex is not None:
            sig = stable_sigmoid(x)
            if pw is None:
                gx = (sig - t) * gi
            else:
                lw = (pw - 1) * t + 1
                gx = (lw * sig - lw + 1 - t) * gi
            gx = unbroadcast(gx, sx)
        if et is not None:
            gt = -x if pw is None else -x - (pw - 1) * log_sigmoid(x)
            gt = unbroadcast(gt * gi, st)
        return gx, gt

    def backward_graph(self, g):
        x, t = self.saved_input(0, self.x), self.saved_input(1, self.t)
        sx, st, sl = self.shapes
        gi = _grad_of_reduced(g, sl, self.reduction, self.x.dtype)
        if self.w is not None:
            gi = gi * _const(self.w, x)
        pw = None if self.pw is None else _const(self.pw - 1, x)
        ex, et = self._edges
        gx = gt = None
        if ex is not None:
            sig = x.sigmoid()
            if pw is None:
                gx = (sig - t) * gi
            else:
                lw = t * pw + 1
                gx = (lw * sig - lw - t + 1) * gi
            gx = sum_to(gx, sx)
        if et is not None:
            gt = -x if pw is None else -x - logsigmoid(x) * pw
            gt = sum_to(gt * gi, st)
        return gx, gt


class BinaryCrossEntropy(Op):
    __slots__ = ("reduction", "shapes", "t", "w", "x")
    _name = "BinaryCrossEntropyBackward0"
    saves = 1

    def forward(self, x, t, weight=None, reduction="mean"):
        xp = xp_of(x)
        log_x = xp.maximum(xp.log(x), -100)
        log_1mx = xp.maximum(xp.log1p(-x), -100)
        loss = -(t * log_x + (1 - t) * log_1mx)
        if weight is not None:
            loss = loss * weight
        self.x, self.t, self.w, self.reduction = x, t, weight, reduction
        self.shapes = (x.shape, t.shape, loss.shape)
        return _reduce(loss, reduction)

    def backward(self, g):
        x, t, w = self.x, self.t, self.w
        xp = xp_of(x)
        sx, st, sl = self.shapes
        gi = _grad_of_reduced(g, sl, self.reduction, x.dtype)
        if w is not None:
            gi = gi * w
        ex, et = self._edges
        gx = gt = None
        if ex is not None:
            gx = unbroadcast((x - t) / xp.maximum((1 - x) * x, x.dtype.type(1e-12)) * gi, sx)
        if et is not None:
            gt = unbroadcast((xp.log1p(-x) - xp.log(x)) * gi, st)
        return gx, gt

    def backward_graph(self, g):
        x, t = self.saved_input(0, self.x), self.saved_input(1, self.t)
        sx, st, sl = self.shapes
        gi = _grad_of_reduced(g, sl, self.reduction, self.x.dtype)
        if self.w is not None:
            gi = gi * _const(self.w, x)
        ex, et = self._edges
        gx = None if ex is None else sum_to((x - t) / ((1 - x) * x).clamp(min=1e-12) * gi, sx)
        gt = None if et is None else sum_to(((-x).log1p() - x.log()) * gi, st)
        return gx, gt


def _same_device(array, like):
    return array._data if array._device is like._device else transfer(array._data, array._device, like._device)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None):
    """Sigmoid and binary cross entropy in one stable node; ``pos_weight`` weighs the positive term."""
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({_size(target._data.shape)}) must be the same as input size "
                         f"({_size(input._data.shape)})")
    input, target = promote_pair(input, target)
    _float_input(input, "binary_cross_entropy_with_logits")
    dt = input._data.dtype
    w = None if weight is None else _same_device(weight, input).astype(dt, copy=False)
    pw = None if pos_weight is None else _same_device(pos_weight, input).astype(dt, copy=False)
    return BinaryCrossEntropyWithLogits.apply(input, target, weight=w, pos_weight=pw, reduction=reduction)


def binary_cross_entropy(input, target, weight=None, size_average=None, reduce=None, reduction="mean"):
    """Binary cross entropy of probabilities ``input``; each log is clamped at -100, as in PyTorch."""
    reduction = _reduction(reduction, size_average, reduce)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({_size(target._data.shape)}) that is different to the input size "
                         f"({_size(input._data.shape)}) is deprecated. Please ensure they have the same size.")
    input, target = promote_pair(input, target)
    _float_input(input, "binary_cross_entropy")
    x, t = input._data, target._data
    if bool(((x < 0) | (x > 1)).any()):
        raise RuntimeError("all elements of input should be between 0 and 1")
    if bool(((t < 0) | (t > 1)).any()):
        raise RuntimeError("all elements of target should be between 0 and 1")
    w = None
    if weight is not None:
        w = _same_device(weight, input)
        w = xp_of(w).broadcast_to(w, np.broadcast_shapes(t.shape, w.shape)).astype(x.dtype, copy=False)
    return BinaryCrossEntropy.apply(input, target, weight=w, reduction=reduction)


__all__ = ["binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "huber_loss", "l1_loss",
           "mse_loss", "nll_loss", "smooth_l1_loss"]
