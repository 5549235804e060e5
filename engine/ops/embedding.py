"""Embedding lookups as ``torch.nn.functional``: ``embedding`` (one graph node) and ``embedding_bag``
(bags of embeddings summed, averaged or maxed, composed of ``embedding``, ``index_add`` and ``scatter_reduce``).

``embedding`` is ``index_select`` on the weight's rows with the gradient's rows scaled per lookup: zero at
``padding_idx``, 1/count with ``scale_grad_by_freq``; its gradient is added in by ``index_dim``'s slice sums.
"""

from .. import creation, dtypes
from ..autograd.grad_mode import no_grad
from ..tensor import make_tensor
from .index_dim import IndexAdd, _CompiledSliceSums, _SliceSums
from .op import Op, xp_of

__all__ = ["embedding", "embedding_bag"]


class Embedding(Op):
    """Rows ``index`` of the weight, shaped (*input, embedding_dim); ``scale`` (or None) weighs each lookup's
    gradient."""

    __slots__ = ("index", "scale", "shape")
    _name = "EmbeddingBackward0"
    saves_tensors = False
    implementations = (_CompiledSliceSums, _SliceSums)

    def forward(self, w, index=None, out_shape=(), scale=None):
        self.index, self.scale, self.shape = index, scale, w.shape
        return xp_of(w).take(w, index, axis=0).reshape(*out_shape, w.shape[1])

    def backward(self, g):
        g = g.reshape(-1, self.shape[1])
        if self.scale is not None:
            g = g * self.scale[:, None]
        gw = xp_of(g).zeros(self.shape, dtype=g.dtype)
        self._impl.add_into(gw, self.index, g, 0)
        return (gw,)

    def backward_graph(self, g):
        g = g.reshape(-1, self.shape[1])
        if self.scale is not None:
            g = g * make_tensor(self.scale[:, None], g._device)
        return (IndexAdd.apply(g.new_zeros(self.shape), g, index=self.index, dim=0),)


def padding_index(padding_idx, rows, message="Padding_idx must be within num_embeddings", exc=AssertionError):
    """``padding_idx`` as a row number (negative counts from the end), -1 for none."""
    if padding_idx is None:
        return -1
    if padding_idx >= rows or padding_idx < -rows:
        raise exc(message)
    return padding_idx + rows if padding_idx < 0 else padding_idx


def _indices(input, weight, name):
    """The flat index array of ``input``, after PyTorch's checks of its dtype and range."""
    idx = input._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{dtypes.legacy_name(idx.dtype)}Tensor instead (while checking "
                           f"arguments for {name})")
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    idx = idx.reshape(-1)
    if idx.size and (int(idx.min()) < 0 or int(idx.max()) >= weight._data.shape[0]):
        raise IndexError("index out of range in self")
    return idx


def _grad_scale(idx, rows, padding_idx, scale_grad_by_freq, dtype):
    """Each lookup's gradient factor: 1/(its row's count) with ``scale_grad_by_freq``, 0 at the padding
    row; None when every factor is 1."""
    if not scale_grad_by_freq and padding_idx < 0:
        return None
    xp = xp_of(idx)
    if scale_grad_by_freq:
        scale = (1 / xp.bincount(idx, minlength=rows)[idx]).astype(dtype)
    else:
        scale = xp.ones(idx.shape, dtype=dtype)
    if padding_idx >= 0:
        scale[idx == padding_idx] = 0
    return scale


def _renorm_(weight, idx, max_norm, norm_type):
    """PyTorch's ``embedding_renorm_``: the looked-up rows whose ``norm_type``-norm exceeds ``max_norm``
    scaled down to it, in place and outside the graph."""
    w = weight._data
    xp = xp_of(w)
    rows = xp.unique(idx)
    norms = xp.linalg.norm(w[rows], ord=norm_type, axis=1)
    big = norms > max_norm
    if bool(big.any()):
        rows = rows[big]
        w[rows] *= (max_norm / (norms[big] + 1e-7)).astype(w.dtype)[:, None]
        weight._bump_version()


def _check_sparse(sparse):
    if sparse:
        raise NotImplementedError("sparse=True: the engine has no sparse tensors, so embedding gradients are dense; "
                                  "use sparse=False")


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False, sparse=False):
    _check_sparse(sparse)
    rows = weight._data.shape[0] if weight._data.ndim else 0
    padding_idx = padding_index(padding_idx, rows)
    idx = _indices(input, weight, "embedding")
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    scale = _grad_scale(idx, rows, padding_idx, scale_grad_by_freq, weight._data.dtype)
    return Embedding.apply(weight, index=idx, out_shape=input._data.shape, scale=scale)


def _bags(input, offsets, per_sample_weights, include_last_offset):
    """Flat ``input``, ``per_sample_weights`` and ``offsets`` for 1-D or 2-D input, after PyTorch's checks."""
    if per_sample_weights is not None and input.shape != per_sample_weights.shape:
        raise ValueError(f"embedding_bag: If per_sample_weights ({per_sample_weights.shape}) is not None, then it "
                         f"must have the same shape as the input ({input.shape})")
    if input.dim() == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        xp = input.xp
        offsets = xp.arange(0, input.numel(), input.shape[1], dtype=input._data.dtype)
        include_last_offset = False
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif input.dim() == 1:
        if offsets is None:
            raise ValueError("offsets has to be a 1D Tensor but got None")
        if offsets.dim() != 1:
            raise ValueError("offsets has to be a 1D Tensor")
        offsets = offsets.to(input.device)._data
    else:
        raise ValueError(f"input has to be 1D or 2D Tensor, but got Tensor of dimension {input.dim()}")
    return input, offsets, per_sample_weights, include_last_offset


def _bag_of_each(offsets, n, include_last_offset):
    """The bag number of each of ``n`` lookups (bags start at ``offsets``) and the number of bags."""
    xp = xp_of(offsets)
    if offsets.size and int(offsets[0]) != 0:
        raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                           f"position 0. However, got {int(offsets[0])}")
    if offsets.size and int(offsets[-1]) > n:
        raise RuntimeError(f"offsets[-1] can not be greater than input's length {n} but got offsets[-1] of "
                           f"{int(offsets[-1])}")
    bags = offsets.size - 1 if include_last_offset else offsets.size
    return xp.searchsorted(offsets[:bags], xp.arange(n), side="right") - 1, bags


def _fixed_bags(weight, idx, shape, mode, max_norm, norm_type, scale_grad_by_freq):
    """Bags of one length with nothing left out: the lookup then one reduction over the bag's axis (two graph
    nodes instead of the general path's five)."""
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    scale = _grad_scale(idx, weight._data.shape[0], -1, scale_grad_by_freq, weight._data.dtype)
    looked_up = Embedding.apply(weight, index=idx, out_shape=shape, scale=scale)
    return looked_up.amax(1) if mode == "max" else looked_up.sum(1) if mode == "sum" else looked_up.mean(1)


def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    if weight._data.ndim != 2:
        raise ValueError(f"weight has to be a 2D Tensor, but got Tensor of dimension {weight._data.ndim}")
    fixed = tuple(input.shape) if input.dim() == 2 and input.shape[1] else None  # bags of one length
    input, offsets, per_sample_weights, include_last_offset = _bags(input, offsets, per_sample_weights,
                                                                    include_last_offset)
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if mode == "max" and scale_grad_by_freq:
        raise ValueError("max mode does not support scaling the gradient by the frequency")
    if mode == "max" and sparse:
        raise ValueError("max mode does not support sparse weights")
    _check_sparse(sparse)
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if per_sample_weights is not None and per_sample_weights.dtype != weight.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'weight' to have the same type as tensor for argument #1 "
                           f"'per_sample_weights'; but type torch.{dtypes.legacy_name(weight._data.dtype)}Tensor does "
                           f"not equal torch.{dtypes.legacy_name(per_sample_weights._data.dtype)}Tensor (while "
                           "checking arguments for embedding_bag)")
    rows = weight._data.shape[0]
    padding_idx = padding_index(padding_idx, rows, f"padding_idx must be within the number of embeddings, {-rows} "
                                                    f"through {rows - 1}, but got {padding_idx}", RuntimeError)
    idx = _indices(input, weight, "embedding_bag")
    if fixed is not None and padding_idx < 0 and per_sample_weights is None:
        return _fixed_bags(weight, idx, fixed, mode, max_norm, norm_type, scale_grad_by_freq)
    bag, bags = _bag_of_each(offsets, idx.size, include_last_offset)
    keep = bag < bags if padding_idx < 0 else (bag < bags) & (idx != padding_idx)
    if not bool(keep.all()):
        idx, bag = idx[keep], bag[keep]
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights[make_tensor(keep, input._device)]
    if max_norm is not None:
        with no_grad():
            _renorm_(weight, idx, max_norm, norm_type)
    scale = _grad_scale(idx, rows, -1, scale_grad_by_freq, weight._data.dtype)
    looked_up = Embedding.apply(weight, index=idx, out_shape=idx.shape, scale=scale)
    out = creation.zeros(bags, weight.shape[1], dtype=weight.dtype, device=weight.device)
    bag_index = make_tensor(bag, input._device)
    if mode == "max":
        return out.scatter_reduce(0, bag_index[:, None].expand(*looked_up.shape), looked_up, "amax",
                                  include_self=False)
    if per_sample_weights is not None:
        looked_up = looked_up * per_sample_weights[:, None]
    out = out.index_add(0, bag_index, looked_up)
    if mode == "mean":
        counts = xp_of(bag).bincount(bag, minlength=bags)[:bags]
        out = out / make_tensor(xp_of(bag).maximum(counts, 1).astype(weight._data.dtype)[:, None], weight._device)
    return out
