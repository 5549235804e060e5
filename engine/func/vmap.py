"""``torch.func.vmap``: ``func`` mapped over a dimension of its inputs.

It calls ``func`` once per batch element on slices of the inputs and stacks the results: PyTorch's results
and errors without batching rules (``chunk_size`` changes nothing here). Randomness follows ``randomness``:
``'error'`` notices a draw from the default generator (its state moved) and raises as PyTorch does,
``'same'`` replays the same draws for every element, ``'different'`` lets them differ.
"""

import functools

import numpy as np

from ..ops.shape import stack
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor
from .pytree import broadcast_to_leaves, tree_flatten, tree_unflatten

__all__ = ["vmap"]

_RANDOMNESS = ("error", "different", "same")
_RANDOM_ERROR = ("vmap: called random operation while in randomness error mode. Please either use the 'same' or "
                 "'different' randomness flags on vmap or perform the randomness operation out of vmap")


def _name(func):
    if isinstance(func, functools.partial):
        return f"functools.partial({_name(func.func)}, ...)"
    return getattr(func, "__name__", repr(func))


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` vectorised over dimension ``in_dims`` of its inputs, the results stacked at ``out_dims``."""
    if randomness not in _RANDOMNESS:
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args, **kwargs):
        flat_args, arg_spec, flat_dims = _flat_inputs(func, in_dims, args)
        size = _batch_size(flat_dims, flat_args)
        start = get_rng_state() if randomness != "different" else None
        results = []
        for b in range(max(size, 1)):  # an empty batch still runs once, on zeros, for the outputs' shapes
            if randomness == "same":
                set_rng_state(start)
            sliced = [x if d is None else x.select(d, b) if size else x.new_zeros(x.shape[:d] + x.shape[d + 1:])
                      for x, d in zip(flat_args, flat_dims)]
            results.append(func(*tree_unflatten(sliced, arg_spec), **kwargs))
            if randomness == "error" and not np.array_equal(get_rng_state().numpy(), start.numpy()):
                raise RuntimeError(_RANDOM_ERROR)
        return _stacked(func, out_dims, results, size)

    return wrapped


def _flat_inputs(func, in_dims, args):
    """The flat inputs, their structure and one in_dim (or None) for each, checked as PyTorch checks them."""
    name = _name(func)
    if not isinstance(in_dims, (int, tuple)):
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): expected `in_dims` to be int or a "
                         f"(potentially nested) tuple matching the structure of inputs, got: {type(in_dims)}.")
    if not args:
        raise ValueError(f"vmap({name})(<inputs>): got no inputs. Maybe you forgot to add inputs, or you are trying "
                         "to vmap over a function with no inputs. The latter is unsupported.")
    flat_args, spec = tree_flatten(args)
    flat_dims = broadcast_to_leaves(in_dims, spec)
    if flat_dims is None:
        raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): in_dims is not compatible with the "
                         f"structure of `inputs`. in_dims has structure {tree_flatten(in_dims)[1]} but inputs has "
                         f"structure {spec}.")
    dims = []
    for arg, d in zip(flat_args, flat_dims):
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but "
                             "in_dim must be either an integer dimension or None.")
        if d is not None and not isinstance(arg, Tensor):
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for an input but the "
                             f"input is of type {type(arg)}. We cannot vmap over non-Tensor arguments, please use "
                             "None as the respective in_dim")
        if d is not None and not -arg.dim() <= d < arg.dim():
            raise ValueError(f"vmap({name}, in_dims={in_dims}, ...)(<inputs>): Got in_dim={d} for some input, but "
                             f"that input is a Tensor of dimensionality {arg.dim()} so expected in_dim to satisfy "
                             f"-{arg.dim()} <= in_dim < {arg.dim()}.")
        dims.append(None if d is None else d % arg.dim())
    return flat_args, spec, dims


def _batch_size(flat_dims, flat_args):
    sizes = [arg.size(d) for d, arg in zip(flat_dims, flat_args) if d is not None]
    if not sizes:
        raise ValueError("vmap: Expected at least one Tensor to vmap over")
    if any(s != sizes[0] for s in sizes):
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{sizes} for the mapped dimension")
    return sizes[0]


def _stacked(func, out_dims, results, size):
    """The per-element results stacked at their out_dims (an output with out_dim None must not vary)."""
    name = _name(func)
    spec = tree_flatten(results[0])[1]
    if isinstance(results[0], Tensor):
        flat_dims = [out_dims[0]] if isinstance(out_dims, tuple) and len(out_dims) == 1 else [out_dims]
    else:
        flat_dims = broadcast_to_leaves(out_dims, spec)
    if flat_dims is None or isinstance(flat_dims[0], tuple):
        raise ValueError(f"vmap({name}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                         f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                         f"has structure {spec}.")
    columns = list(zip(*(tree_flatten(r)[0] for r in results)))
    out = []
    for d, column in zip(flat_dims, columns):
        if d is not None and not isinstance(d, int):
            raise ValueError(f"vmap({name}, ..., out_dims={out_dims}): `out_dims` must be an int, None or a python "
                             "collection of ints representing where in the outputs the vmapped dimension should "
                             "appear.")
        if d is None:
            if isinstance(column[0], Tensor) and any(not _same(column[0], c) for c in column[1:]):
                raise ValueError(f"vmap({name}, ...): `{name}` can not return a BatchedTensor when out_dim is None")
            out.append(column[0])
            continue
        for c in column:
            if not isinstance(c, Tensor):
                raise ValueError(f"vmap({name}, ...): `{name}` must only return Tensors, got type {type(c)}. Did you "
                                 "mean to set out_dims= to None for output?")
        out.append(stack(column, dim=d) if size else stack(column, dim=d).narrow(d, 0, 0))
    return tree_unflatten(out, spec)


def _same(a, b):
    return isinstance(b, Tensor) and a.shape == b.shape and bool(np.array_equal(a._host(), b._host()))
