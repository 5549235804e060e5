"""Combining tensors into grids and products: ``meshgrid``, ``cartesian_prod``, ``combinations``,
``block_diag``."""

import itertools
import warnings

import numpy as np

from ..backend import CPU
from ..creation import zeros
from ..tensor import make_tensor
from .index import getitem
from .op import Op, xp_of
from .shape import _promote_all, expand, reshape, stack


def meshgrid(*tensors, indexing=None):
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise RuntimeError("torch.meshgrid expects a non-empty TensorList")
    for t in tensors:
        if t._data.ndim > 1:
            raise RuntimeError(f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: {t}")
        if t._data.dtype != tensors[0]._data.dtype:
            raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    axes = list(range(len(tensors)))
    if indexing == "xy" and len(tensors) > 1:
        axes[0], axes[1] = 1, 0
    shape = [0] * len(tensors)
    for t, axis in zip(tensors, axes):
        shape[axis] = t._data.size
    grids = []
    for t, axis in zip(tensors, axes):
        line = [1] * len(tensors)
        line[axis] = -1
        grids.append(expand(reshape(t, line), shape))
    return tuple(grids)


def cartesian_prod(*tensors):
    for t in tensors:
        if t._data.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    return stack([reshape(g, (-1,)) for g in meshgrid(*tensors, indexing="ij")], 1)


def combinations(input, r=2, with_replacement=False):
    if input._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input._data.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return zeros(0, dtype=input.dtype, device=input.device)
    n = input._data.shape[0]
    if r == 2:  # the common case, in itertools' order without a Python loop
        index = np.stack(np.triu_indices(n, 0 if with_replacement else 1), 1)
    else:
        pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
        index = np.fromiter(itertools.chain.from_iterable(pick(range(n), r)), dtype=np.int64).reshape(-1, r)
    return getitem(input, make_tensor(index, CPU))


class BlockDiag(Op):
    __slots__ = ("corners",)
    _name = "BlockDiagBackward0"
    saves_tensors = False

    def forward(self, *blocks):
        rows, cols = (sum(b.shape[k] for b in blocks) for k in (0, 1))
        out = xp_of(blocks[0]).zeros((rows, cols), dtype=blocks[0].dtype)
        corners, r, c = [], 0, 0
        for b in blocks:
            out[r:r + b.shape[0], c:c + b.shape[1]] = b
            corners.append((r, c, b.shape))
            r, c = r + b.shape[0], c + b.shape[1]
        self.corners = corners
        return out

    def backward(self, g):
        return tuple(g[r:r + s[0], c:c + s[1]].copy() for r, c, s in self.corners)

    def backward_graph(self, g):
        return tuple(g[r:r + s[0], c:c + s[1]] for r, c, s in self.corners)


def block_diag(*tensors):
    if not tensors:
        return zeros((1, 0))
    for i, t in enumerate(tensors):
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
    blocks = [reshape(t, (1, -1) if t._data.ndim < 2 else t._data.shape) for t in _promote_all(list(tensors))]
    return BlockDiag.apply(*blocks)
