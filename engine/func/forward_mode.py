"""``torch.func``'s forward-mode transforms, ``jvp`` and ``jacfwd``, by the double-backward trick: the vjp
``u -> J^T u`` is linear in ``u``, so differentiating it with respect to ``u`` along a tangent ``t`` gives
``J t``. One forward and one backward build that vjp; each tangent then costs one more backward."""

import functools

from ..autograd.boundary import cut
from ..autograd.engine import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..creation import zeros_like
from ..ops.shape import stack
from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten
from .transforms import Differentiated, split_aux

__all__ = ["jacfwd", "jvp"]


class _Linearized:
    """``func`` at the call's arguments, with the graph of its vjp ready for Jacobian-vector products."""

    def __init__(self, call, flat_out, api):
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{api}: expected f(*args) to return only tensors, got unsupported type {type(o)}")
        self.call, self.flat_out = call, flat_out
        self.cotangents = [zeros_like(o, requires_grad=True) for o in flat_out]
        self.vjps = call.flat_gradients(flat_out, self.cotangents, create_graph=True)

    def jvp(self, tangents, create_graph):
        """``J t`` for each output, for ``tangents`` shaped as the call's differentiated inputs."""
        pairs = [(g, t) for g, t in zip(self.vjps, tangents) if g.requires_grad]
        grads = (None,) * len(self.cotangents)
        if pairs:
            with cut(self.call.inputs):
                grads = _autograd_grad([g for g, _ in pairs], self.cotangents, [t for _, t in pairs],
                                       retain_graph=True, create_graph=create_graph, allow_unused=True)
        return [zeros_like(o) if g is None else g for g, o in zip(grads, self.flat_out)]


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """``(func(*primals), J tangents)`` (and ``aux``), the outputs' structure kept."""
    api = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{api}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    primals_spec = tree_flatten(primals)[1]
    flat_tangents, tangents_spec = tree_flatten(tangents)
    if primals_spec != tangents_spec:
        raise RuntimeError(f"{api}: Expected primals and tangents to have the same python structure. For example, "
                           f"if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{primals_spec} and tangents with structure {tangents_spec}")
    create_graph = is_grad_enabled()
    with enable_grad():
        call = Differentiated(primals, tuple(range(len(primals))), create_graph)
        output, aux = split_aux(func(*call.args), has_aux, api)
        flat_out, out_spec = tree_flatten(output)
        lin = _Linearized(call, flat_out, api)
        jv = lin.jvp(flat_tangents, create_graph)
    result = (tree_unflatten([call.undo(o) for o in flat_out], out_spec),
              tree_unflatten([call.undo(t) for t in jv], out_spec))
    return (*result, call.undo_tree(aux)) if has_aux else result


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``func``'s Jacobian by forward mode, one Jacobian-vector product per input element; the same layout as
    ``jacrev``'s."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        create_graph = is_grad_enabled()
        with enable_grad():
            call = Differentiated(args, argnums, create_graph)
            output, aux = split_aux(func(*call.args, **kwargs), has_aux, "jacfwd(f, ...)(*args)")
            flat_out, out_spec = tree_flatten(output)
            lin = _Linearized(call, flat_out, "jacfwd(f, ...)(*args)")
            columns = []  # columns[k][e]: J e for element e of input k, one tensor per output
            for k, inp in enumerate(call.inputs):
                cols = []
                for e in range(inp.numel()):
                    tangents = [zeros_like(t) for t in call.inputs]
                    tangents[k].view(-1)[e] = 1
                    cols.append(lin.jvp(tangents, create_graph))
                columns.append(cols)
            jac = [tree_unflatten([call.undo(_block(columns[k], i, out, inp)) for k, inp in enumerate(call.inputs)],
                                  call.spec)
                   for i, out in enumerate(flat_out)]
        jac = tree_unflatten(jac, out_spec)
        return (jac, call.undo_tree(aux)) if has_aux else jac

    return wrapper


def _block(cols, i, out, inp):
    """The ``out.shape + inp.shape`` block of output ``i`` from its columns (one per element of ``inp``)."""
    if not cols:
        return out.new_zeros(tuple(out.shape) + tuple(inp.shape), dtype=out.dtype)
    return stack([c[i] for c in cols], dim=out.dim()).view(tuple(out.shape) + tuple(inp.shape))
