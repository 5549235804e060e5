"""``ctc_loss``: the Connectionist Temporal Classification loss, as ``torch.nn.functional.ctc_loss``.

The op (one graph node) gives each batch element's negative log-likelihood of its target under all
alignments with blanks and repeats, by the forward (alpha) recursion over log-probabilities; backward runs
the beta recursion and writes PyTorch's gradient, ``exp(lp) - exp(log(alpha * beta) + nll - lp)`` per label,
the form that is exact once it passes back through a log_softmax. Two implementations: compiled per-element
loops on the CPU (``ctc_kernels``), and array code vectorised over the batch and the extended labels, one
step per time, for NumPy or CuPy. The reduction ('mean' divides by the target lengths) composes tensor ops,
as PyTorch's does. PyTorch has no double backward of ctc_loss; nor has this op.
"""

import numpy as np

from .. import dtypes
from ..backend import CPU, Implementation, transfer
from ..tensor import Tensor
from . import ctc_kernels, jit
from .loss import _reduction, reduce_loss
from .op import Op, autocast_inputs, xp_of

_C = "ctc_loss_allocate_outputs"


def _logsumexp(*arrays):
    """Elementwise log(sum(exp)) of same-shaped arrays, -inf where all are -inf."""
    xp = xp_of(arrays[0])
    m = arrays[0]
    for a in arrays[1:]:
        m = xp.maximum(m, a)
    m = xp.where(xp.isfinite(m), m, m.dtype.type(0))
    total = xp.exp(arrays[0] - m)
    for a in arrays[1:]:
        total += xp.exp(a - m)
    with np.errstate(divide="ignore"):
        return xp.log(total) + m


def _shifted(a, k, fill):
    """``a`` moved ``k`` places along its last axis (right for k > 0, left for k < 0), ``fill`` coming in."""
    out = xp_of(a).full_like(a, fill)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class _Generic(Implementation):
    """Array code: the recursions step through time, each step vectorised over (batch, extended labels)."""

    @staticmethod
    def forward(node, lp, labels, in_len, tg_len, blank):
        xp = xp_of(lp)
        t_max, n, _ = lp.shape
        neginf = lp.dtype.type(-np.inf)
        lp_ext = xp.take_along_axis(lp, xp.broadcast_to(labels, (t_max, *labels.shape)), axis=2)  # (T, N, S')
        skip = node.skip
        log_alpha = xp.full((t_max, *labels.shape), neginf, dtype=lp.dtype)
        log_alpha[0, :, 0] = lp_ext[0, :, 0]
        log_alpha[0, :, 1] = xp.where(tg_len > 0, lp_ext[0, :, 1], neginf)
        for t in range(1, t_max):
            prev = log_alpha[t - 1]
            three = xp.where(skip, _shifted(prev, 2, neginf), neginf)
            log_alpha[t] = _logsumexp(prev, _shifted(prev, 1, neginf), three) + lp_ext[t]
        last = xp.maximum(in_len - 1, 0)
        rows = xp.arange(n)
        ends = log_alpha[last, rows]  # (N, S'): each element's alphas at its last time
        l1 = ends[rows, 2 * tg_len]
        l2 = xp.where(tg_len > 0, ends[rows, xp.maximum(2 * tg_len - 1, 0)], neginf)
        nll = -_logsumexp(l1, l2)
        nll = xp.where(in_len > 0, nll, xp.where(tg_len > 0, lp.dtype.type(np.inf), lp.dtype.type(0)))
        node.lp_ext = lp_ext
        return log_alpha, nll

    @staticmethod
    def backward(node, lp, gr):
        xp = xp_of(lp)
        labels, in_len, tg_len, log_alpha, nll = node.labels, node.in_len, node.tg_len, node.log_alpha, node.nll
        t_max, _, num_labels = lp.shape
        neginf = lp.dtype.type(-np.inf)
        lp_ext = node.lp_ext
        s_idx = xp.arange(labels.shape[1])
        ends = (s_idx == 2 * tg_len[:, None]) | ((s_idx == 2 * tg_len[:, None] - 1) & (tg_len[:, None] > 0))
        skip_back = _shifted(node.skip, -2, False)  # a step from s to s + 2 is allowed where s + 2 may skip
        log_beta = xp.full(log_alpha.shape, neginf, dtype=lp.dtype)
        for t in range(t_max - 1, -1, -1):
            start = xp.where(ends & (in_len[:, None] - 1 == t), lp_ext[t], neginf)
            if t + 1 < t_max:
                nxt = log_beta[t + 1]
                three = xp.where(skip_back, _shifted(nxt, -2, neginf), neginf)
                step = _logsumexp(nxt, _shifted(nxt, -1, neginf), three) + lp_ext[t]
                start = xp.where(in_len[:, None] - 1 > t, step, start)
            log_beta[t] = start
        with np.errstate(invalid="ignore"):  # an impossible alignment (nll = inf) gives NaN, as in PyTorch
            occupancy = xp.exp(log_alpha + log_beta + nll[:, None] - lp_ext)  # (T, N, S'), a probability each
        onehot = (labels[:, :, None] == xp.arange(num_labels)).astype(lp.dtype)  # (N, S', C)
        per_label = xp.matmul(occupancy.transpose(1, 0, 2), onehot).transpose(1, 0, 2)  # (T, N, C)
        grad = (xp.exp(lp) - per_label) * gr[:, None]
        live = xp.arange(t_max)[:, None] < in_len  # (T, N)
        if node.zero_infinity:
            live = live & (nll != np.inf)
        return xp.where(live[:, :, None], grad, lp.dtype.type(0))


class _Compiled(Implementation):
    """``ctc_kernels``: per-element loops in numba, the batch over the CPU threads."""

    name = "compiled"

    @staticmethod
    def applies(lp, **_):
        return jit.takes_floats(lp)

    @staticmethod
    def forward(node, lp, labels, in_len, tg_len, blank):
        log_alpha, nll = ctc_kernels.forward(lp, node.targets, in_len, tg_len, blank, labels.shape[1])
        return log_alpha, nll

    @staticmethod
    def backward(node, lp, gr):
        return ctc_kernels.backward(lp, node.targets, node.in_len, node.tg_len, node.blank, node.log_alpha,
                                    node.nll, np.ascontiguousarray(gr), node.zero_infinity)


class CtcLoss(Op):
    """Each batch element's negative log-likelihood (N,); inputs: log_probs (T, N, C)."""

    __slots__ = ("blank", "in_len", "labels", "log_alpha", "lp", "lp_ext", "nll", "skip", "targets", "tg_len",
                 "zero_infinity")
    _name = "CtcLossBackward0"
    implementations = (_Compiled, _Generic)
    backward_graph = None

    def forward(self, lp, targets=None, in_len=None, tg_len=None, blank=0, zero_infinity=False):
        xp = xp_of(lp)
        n, s_max = targets.shape
        s_idx = xp.arange(2 * s_max + 1)
        inside = (s_idx[None, :] < 2 * tg_len[:, None] + 1) & (s_idx % 2 == 1)
        padded = xp.concatenate([targets, xp.zeros((n, 1), dtype=targets.dtype)], axis=1)
        labels = xp.where(inside, padded[:, s_idx // 2], blank)  # (N, S'): blanks between the targets
        self.skip = (labels != blank) & (labels != _shifted(labels, 2, blank))
        self.lp, self.targets, self.labels, self.in_len, self.tg_len = lp, targets, labels, in_len, tg_len
        self.blank, self.zero_infinity = blank, zero_infinity
        log_alpha, nll = self._impl.forward(self, lp, labels, in_len, tg_len, blank)
        self.log_alpha, self.nll = log_alpha, nll
        if zero_infinity:
            return xp.where(nll == np.inf, lp.dtype.type(0), nll)
        return nll

    def backward(self, g):
        return (self._impl.backward(self, self.lp, g),)


def _host(tensor):
    return transfer(tensor._data, tensor._device, CPU)


def _lengths(lengths, name):
    """Lengths given as a tensor or a sequence of ints, as a host int64 array."""
    if isinstance(lengths, Tensor):
        if lengths._data.dtype.kind not in "iu":
            raise RuntimeError(f"{name} must be integral")
        return _host(lengths).astype(np.int64).reshape(-1)
    if isinstance(lengths, int):
        raise TypeError(f"ctc_loss(): argument '{name}' must be tuple of ints, not int")
    return np.asarray(list(lengths), dtype=np.int64).reshape(-1)


def _check_at_least_zero(values, name):
    for v in values:
        if v < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {v} (while checking "
                               f"arguments for {_C})")


def _padded_targets(targets, tg_len, n):
    """Targets (N, max target length) from padded (N, S) or concatenated (sum of lengths,) ones, with PyTorch's
    checks, as a host int64 array."""
    t = _host(targets).astype(np.int64)
    _check_at_least_zero(tg_len, "target_lengths")
    s_max = int(tg_len.max()) if n else 0
    if t.ndim == 1:
        total = int(tg_len.sum())
        if t.shape[0] != total:
            raise RuntimeError(f"Expected tensor to have size {total} at dimension 0, but got size {t.shape[0]} for "
                               f"argument #2 'targets' (while checking arguments for {_C})")
        out = np.zeros((n, s_max), dtype=np.int64)
        mask = np.arange(s_max) < tg_len[:, None]
        out[mask] = t
        return out
    if t.shape[0] != n:
        raise RuntimeError(f"Expected tensor to have size {n} at dimension 0, but got size {t.shape[0]} for "
                           f"argument #2 'targets' (while checking arguments for {_C})")
    if t.shape[1] < s_max:
        raise RuntimeError(f"Expected tensor to have size at least {s_max} at dimension 1, but got size {t.shape[1]} "
                           f"for argument #2 'targets' (while checking arguments for {_C})")
    return np.ascontiguousarray(t[:, :s_max])


def ctc_loss(log_probs, targets, input_lengths, target_lengths, blank=0, reduction="mean", zero_infinity=False):
    """CTC loss of log-probabilities ``log_probs`` (T, N, C) or (T, C) against ``targets`` (N, S) padded or
    concatenated (sum(target_lengths),); 'mean' averages each loss divided by its target length."""
    reduction = _reduction(reduction)
    (log_probs,) = autocast_inputs(CtcLoss, log_probs)
    x = log_probs._data
    if x.dtype not in (np.float32, np.float64):  # PyTorch's CPU kernel takes these two only
        raise NotImplementedError(f'"ctc_loss_cpu" not implemented for \'{dtypes.legacy_name(x.dtype)}\'')
    unbatched = x.ndim == 2
    if x.ndim != 3 and not unbatched:
        raise RuntimeError(f"Expected 3-dimensional tensor, but got {x.ndim + 1}-dimensional tensor for argument "
                           f"#1 'log_probs' (while checking arguments for {_C})")
    if unbatched:
        log_probs, targets = log_probs.unsqueeze(1), targets.unsqueeze(0)
    t_max, n, num_labels = log_probs.shape
    if not 0 <= blank < num_labels:
        raise RuntimeError("blank must be in label range")
    if isinstance(input_lengths, Tensor) != isinstance(target_lengths, Tensor):
        raise TypeError("ctc_loss() received an invalid combination of arguments: input_lengths and target_lengths "
                        "must be both tensors or both tuples of ints")
    in_len = _lengths(input_lengths, "input_lengths")
    tg_len = _lengths(target_lengths, "target_lengths")
    if in_len.size != n:
        raise RuntimeError("input_lengths must be of size batch_size")
    if tg_len.size != n:
        raise RuntimeError("target_lengths must be of size batch_size")
    padded = _padded_targets(targets, tg_len, n)
    _check_at_least_zero(in_len, "input_lengths")
    for v in in_len:
        if v > t_max:
            raise RuntimeError(f"Expected input_lengths to have value at most {t_max}, but got value {v} (while "
                               f"checking arguments for {_C})")
    used = padded[np.arange(padded.shape[1]) < tg_len[:, None]]
    if used.size and (used.min() < 0 or used.max() >= num_labels):
        bad = used[(used < 0) | (used >= num_labels)][0]
        raise IndexError(f"Target {bad} is out of bounds.")
    dev = log_probs._device
    lens = [transfer(a, CPU, dev) for a in (padded, in_len, tg_len)]
    nll = CtcLoss.apply(log_probs, targets=lens[0], in_len=lens[1], tg_len=lens[2], blank=int(blank),
                        zero_infinity=bool(zero_infinity))
    if reduction == "mean":
        nll = nll / (log_probs.new_tensor(np.maximum(tg_len, 1)) if n else log_probs.new_ones(0))
    elif reduction == "none" and unbatched:
        return nll[0]
    return reduce_loss(nll, reduction)


__all__ = ["ctc_loss"]
