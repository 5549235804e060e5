"""``scaled_dot_product_attention``: softmax(q kᵀ · scale + mask) v as one graph node with an analytic backward.

The node holds the attention probabilities and the dropout mask, so backward is two batched products for the
values' and the probabilities' gradients, the softmax's Jacobian in place, and two more for the query's and
key's: no per-head loop and no graph of a dozen small nodes. On the CPU the leading batch axis is split over
the engine's threads (NumPy's batched products take one matrix after another on one core).

Names, arguments, errors and results follow ``torch.nn.functional``: a row whose every key is masked out
attends to nothing (zeros, as PyTorch's safe softmax gives, rather than NaN).
"""

import math

import numpy as np

from ..backend import array_module, device_context, is_host
from ..dtypes import FLOAT_KINDS, legacy_name
from ..random import uniform_array
from ..tensor import make_tensor
from ..threads import PRODUCT_MIN_MACS, cpu_map, cpu_shares
from . import softmax_kernels
from .op import Op, check_in_place_broadcast, sum_to, unbroadcast, xp_of


def _in_shares(body, work, n, ndim, *arrays):
    """``body(*arrays)``, on host arrays split along the leading batch axis (length ``n``) over the CPU threads;
    an array without that axis (fewer dims, or a broadcast axis of 1) goes whole to every share."""
    if n < 2 or ndim < 3 or not is_host(arrays[0]):
        body(*arrays)
        return

    def share(bounds):
        lo, hi = bounds
        body(*(a[lo:hi] if a is not None and a.ndim == ndim and a.shape[0] == n else a for a in arrays))

    cpu_map(share, cpu_shares(n, work, PRODUCT_MIN_MACS))


def _safe_softmax_(s):
    """Softmax over the last axis of ``s``, in place; a row that is all -inf (or empty) gives zeros, one with +inf
    NaN. Called within a share of the batch, so on this thread."""
    if s.size == 0:
        return
    if softmax_kernels.takes(s):
        softmax_kernels.forward_(s, safe=True, threaded=False)
        return
    xp = xp_of(s)
    m = s.max(axis=-1, keepdims=True)
    s -= xp.where(m == -xp.inf, 0, m)
    xp.exp(s, out=s)
    total = s.sum(axis=-1, keepdims=True)
    total[total == 0] = 1
    s /= total


def _softmax_gradient_(p, gp):
    """``gp`` replaced by the gradient of softmax's input, ``p (gp - sum(gp p))`` over the last axis, on this
    thread."""
    if softmax_kernels.takes(p, gp):
        softmax_kernels.backward_(p, gp, threaded=False)
        return
    gp -= (gp * p).sum(axis=-1, keepdims=True)
    gp *= p


def _dropped(p, keep, drop_scale):
    """The probabilities after dropout: ``p`` itself without it, else a new array."""
    if keep is None:
        return p
    pd = p * keep
    pd *= p.dtype.type(drop_scale)
    return pd


class ScaledDotProductAttention(Op):
    """Inputs q (..., L, E), k (..., S, E), v (..., S, Ev) and an optional additive float mask broadcasting to
    (..., L, S); ``keep`` is the dropout mask over the probabilities (None without dropout)."""

    __slots__ = ("drop_scale", "k", "keep", "mask", "p", "q", "scale", "v")
    _name = "UnsafeViewBackward0"
    saves = 1

    def forward(self, q, k, v, mask=None, scale=1.0, batch=(), keep=None, drop_scale=1.0):
        xp = xp_of(q)
        L, S = q.shape[-2], k.shape[-2]
        p = xp.empty((*batch, L, S), dtype=q.dtype)
        out = xp.empty((*batch, L, v.shape[-1]), dtype=q.dtype)
        factor = q.dtype.type(scale)

        def body(q, k, v, mask, keep, p, out):
            xp.matmul(q, xp.swapaxes(k, -1, -2), out=p)
            p *= factor
            if mask is not None:
                p += mask
            _safe_softmax_(p)
            xp.matmul(_dropped(p, keep, drop_scale), v, out=out)

        n = batch[0] if batch else 0
        _in_shares(body, p.size * (q.shape[-1] + v.shape[-1]), n, p.ndim, q, k, v, mask, keep, p, out)
        self.q, self.k, self.v, self.mask, self.p = q, k, v, mask, p
        self.scale, self.keep, self.drop_scale = scale, keep, drop_scale
        return out

    def backward(self, g):
        q, k, v, p, keep = self.q, self.k, self.v, self.p, self.keep
        xp = xp_of(g)
        edges = self._edges
        need_mask = len(edges) > 3 and edges[3] is not None
        gq = xp.empty((*p.shape[:-1], q.shape[-1]), dtype=g.dtype)
        gk = xp.empty(p.shape[:-2] + k.shape[-2:], dtype=g.dtype)
        gv = xp.empty(p.shape[:-2] + v.shape[-2:], dtype=g.dtype)
        gs = xp.empty(p.shape, dtype=g.dtype) if need_mask else None
        factor = g.dtype.type(self.scale)
        drop_scale = self.drop_scale

        def body(q, k, v, p, keep, g, gq, gk, gv, gs):
            xp.matmul(xp.swapaxes(_dropped(p, keep, drop_scale), -1, -2), g, out=gv)
            gp = xp.matmul(g, xp.swapaxes(v, -1, -2))
            if keep is not None:
                gp *= keep
                gp *= g.dtype.type(drop_scale)
            _softmax_gradient_(p, gp)  # the gradient of the scaled, masked scores
            if gs is not None:
                gs[...] = gp
            gp *= factor
            xp.matmul(gp, k, out=gq)
            xp.matmul(xp.swapaxes(gp, -1, -2), q, out=gk)

        n = p.shape[0] if p.ndim > 2 else 0
        _in_shares(body, p.size * (q.shape[-1] + v.shape[-1]) * 2, n, p.ndim, q, k, v, p, keep, g, gq, gk, gv, gs)
        grads = (unbroadcast(gq, q.shape) if edges[0] is not None else None,
                 unbroadcast(gk, k.shape) if edges[1] is not None else None,
                 unbroadcast(gv, v.shape) if edges[2] is not None else None)
        if len(edges) > 3:
            return (*grads, unbroadcast(gs, self.mask.shape) if need_mask else None)
        return grads

    def backward_graph(self, g):
        """The same formulas in tensor ops, the probabilities recomputed from the saved inputs so that they are
        differentiable in q, k and the mask."""
        q, k, v = self.saved_input(0, self.q), self.saved_input(1, self.k), self.saved_input(2, self.v)
        s = q.matmul(k.transpose(-1, -2)) * self.scale
        if self.mask is not None:
            s = s + self.saved_input(3, self.mask)
        m = s.detach().amax(-1, keepdim=True)
        e = (s - m.masked_fill(m == -math.inf, 0)).exp()
        total = e.sum(-1, keepdim=True)
        p = e / (total + (total == 0).to(total.dtype))
        keep = None if self.keep is None else make_tensor(self.keep.astype(g._data.dtype), g._device)
        pd = p if keep is None else p * keep * self.drop_scale
        gp = g.matmul(v.transpose(-1, -2))
        if keep is not None:
            gp = gp * keep * self.drop_scale
        gs = p * (gp - (gp * p).sum(-1, keepdim=True))
        edges = self._edges
        grads = (sum_to((gs * self.scale).matmul(k), q.shape) if edges[0] is not None else None,
                 sum_to((gs * self.scale).transpose(-1, -2).matmul(q), k.shape) if edges[1] is not None else None,
                 sum_to(pd.transpose(-1, -2).matmul(g), v.shape) if edges[2] is not None else None)
        if len(edges) > 3:
            return (*grads, sum_to(gs, self.mask.shape) if edges[3] is not None else None)
        return grads


def _check(query, key, value, attn_mask, dropout_p, is_causal):
    """PyTorch's argument checks, with its messages."""
    q, k, v = query._data, key._data, value._data
    if q.ndim < 2 or k.ndim < 2 or v.ndim < 2:
        raise RuntimeError(f"Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{q.ndim} key.dim: {k.ndim} and value.dim: {v.ndim} instead.")
    if not q.dtype == k.dtype == v.dtype:
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{_c_name(q.dtype)} key.dtype: {_c_name(k.dtype)} and value.dtype: {_c_name(v.dtype)} "
                           "instead.")
    if q.dtype.kind not in FLOAT_KINDS:
        raise RuntimeError(f"expected scalar type Float but found {legacy_name(q.dtype)}")
    if attn_mask is not None:
        m = attn_mask._data
        if m.dtype != bool and m.dtype != np.float32 and m.dtype != q.dtype:
            raise RuntimeError(f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                               f"attn_mask.dtype: {_c_name(m.dtype)} and  query.dtype: {_c_name(q.dtype)} instead.")
        if is_causal:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                               "is_causal=True")
    if dropout_p > 1:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p:g}")


def _c_name(np_dtype):
    """How PyTorch's C++ messages name a dtype (``float``, ``double``, ``long int``)."""
    return {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int",
            "int32": "int"}.get(np.dtype(np_dtype).name, np.dtype(np_dtype).name)


def _batch_size(shape):
    return math.prod(shape[:-2])


def _grouped(query, key, value):
    """Key and value repeated along dim -3 to the query's heads (grouped-query attention)."""
    hq, hk, hv = query._data.shape[-3], key._data.shape[-3], value._data.shape[-3]
    if hq % hk or hq % hv:
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")
    if hk != hq:
        key = key.repeat_interleave(hq // hk, -3)
    if hv != hq:
        value = value.repeat_interleave(hq // hv, -3)
    return key, value


def _additive_mask(attn_mask, dtype, L, S, is_causal, dev):
    """The mask as an array to add to the scores: booleans become 0 / -inf, ``is_causal`` the lower triangle."""
    if is_causal:
        with device_context(dev):
            xp = array_module(dev)
            return xp.triu(xp.full((L, S), -np.inf, dtype=dtype), 1)
    m = attn_mask._data
    xp = xp_of(m)
    with device_context(dev):
        return xp.where(m, dtype.type(0), dtype.type(-np.inf))


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query keyᵀ · scale + mask) value over the last two dims, the leading ones broadcast as batch."""
    _check(query, key, value, attn_mask, dropout_p, is_causal)
    # Half precision is computed in float32 and rounded, as PyTorch accumulates (NumPy's float16 products run
    # without BLAS, 70x slower; its bfloat16 products accumulate in bfloat16, 10x PyTorch's error).
    if query._data.dtype.itemsize == 2:
        mask = attn_mask if attn_mask is None or attn_mask._data.dtype == bool else attn_mask.float()
        out = scaled_dot_product_attention(query.float(), key.float(), value.float(), mask, dropout_p, is_causal,
                                           scale, enable_gqa)
        return out.to(query.dtype)
    if enable_gqa and query._data.ndim >= 3:
        key, value = _grouped(query, key, value)
    q, k, v = query._data, key._data, value._data
    if q.shape[-1] != k.shape[-1]:
        n = _batch_size(q.shape)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {q.shape[-1]}] "
                           f"but got: [{n}, {k.shape[-1]}].")
    if k.shape[-2] != v.shape[-2]:
        n = _batch_size(q.shape)
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{n}, {k.shape[-2]}] "
                           f"but got: [{n}, {v.shape[-2]}].")
    L, S = q.shape[-2], k.shape[-2]
    batch_shapes = [q.shape[:-2], k.shape[:-2], v.shape[:-2]]
    inputs = [query, key, value]
    if attn_mask is not None or is_causal:
        if attn_mask is not None:
            # the mask is added in place to the scores: it may not widen them
            check_in_place_broadcast((*np.broadcast_shapes(*batch_shapes), L, S), attn_mask._data.shape)
        if attn_mask is not None and attn_mask._data.dtype != bool:
            inputs.append(attn_mask if attn_mask._data.dtype == q.dtype else attn_mask.to(query.dtype))
        else:
            inputs.append(make_tensor(_additive_mask(attn_mask, q.dtype, L, S, is_causal, query._device),
                                      query._device))
    batch = np.broadcast_shapes(*batch_shapes)
    keep, drop_scale = None, 1.0
    if dropout_p > 0:
        keep = uniform_array((*batch, L, S), 0, 1, query._device) >= dropout_p
        drop_scale = 1.0 / (1.0 - dropout_p) if dropout_p < 1 else 0.0
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    return ScaledDotProductAttention.apply(*inputs, scale=scale, batch=batch, keep=keep, drop_scale=drop_scale)


__all__ = ["scaled_dot_product_attention"]
