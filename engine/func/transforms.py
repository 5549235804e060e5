"""``torch.func``'s reverse-mode transforms on top of the engine's autograd: ``grad``, ``grad_and_value``,
``vjp``, ``jacrev`` and ``hessian``.

Each call makes the arguments it differentiates into fresh graph inputs: a new leaf for a tensor that does not
require grad, an alias joined to the original for one that does (so an outer transform, or plain autograd,
sees through; the call's own backward stops at the alias, see ``engine.autograd.boundary``). Gradients are
taken with ``create_graph`` whenever grad mode is on, which is what makes ``grad(grad(f))`` work. Results that
depend on nothing but this call's own leaves are detached, as functorch unwraps them; those that reach tensors
outside it (an outer transform's inputs, parameters in a closure) keep their graph.
"""

import functools

from ..autograd.boundary import boundary_alias, cut
from ..autograd.double_backward import NotTwiceDifferentiable
from ..autograd.engine import grad as _autograd_grad
from ..autograd.grad_mode import enable_grad, is_grad_enabled
from ..creation import zeros_like
from ..ops.shape import stack
from ..tensor import Tensor
from .pytree import tree_flatten, tree_unflatten

__all__ = ["grad", "grad_and_value", "hessian", "jacrev", "vjp"]


def _validate_argnum(argnum, num_args):
    if not isinstance(argnum, int):
        raise RuntimeError(f"argnum must be int, got: {type(argnum)}")
    if 0 <= argnum < num_args:
        return argnum
    if -num_args <= argnum < 0:
        return argnum + num_args
    raise RuntimeError(f"Got argnum={argnum}, but only {num_args} positional inputs")


def _wrap_argnums(argnums, num_args):
    if isinstance(argnums, int):
        return _validate_argnum(argnums, num_args)
    if not isinstance(argnums, tuple):
        raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
    if not argnums:
        raise RuntimeError("argnums must be non-empty")
    if len(set(argnums)) != len(argnums):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return tuple(_validate_argnum(a, num_args) for a in argnums)


class Differentiated:
    """The arguments of one transform call, those at ``argnums`` replaced by fresh graph inputs."""

    def __init__(self, args, argnums, create_graph):
        argnums = _wrap_argnums(argnums, len(args))
        picked = args[argnums] if isinstance(argnums, int) else tuple(args[i] for i in argnums)
        leaves, self.spec = tree_flatten(picked)
        self.inputs = [_fresh_input(x, create_graph) for x in leaves]
        self.own = {id(t) for t in self.inputs if t.grad_fn is None}
        new = tree_unflatten(self.inputs, self.spec)
        if isinstance(argnums, int):
            self.args = tuple(new if i == argnums else a for i, a in enumerate(args))
        else:
            self.args = tuple(new[argnums.index(i)] if i in argnums else a for i, a in enumerate(args))

    def flat_gradients(self, outputs, grad_outputs, create_graph, retain_graph=None):
        """The gradients with respect to the fresh inputs, zeros where unused, in their graph."""
        outs = [(o, g) for o, g in zip(outputs, grad_outputs) if o.requires_grad]
        if not outs:
            return [zeros_like(t) for t in self.inputs]
        with cut(self.inputs):
            grads = _autograd_grad([o for o, _ in outs], self.inputs, [g for _, g in outs], allow_unused=True,
                                   create_graph=create_graph, retain_graph=retain_graph)
        return [zeros_like(t) if g is None else g for g, t in zip(grads, self.inputs)]

    def gradients(self, outputs, grad_outputs, create_graph, retain_graph=None):
        """The gradients as the caller sees them, arranged as ``argnums`` arranged the arguments."""
        grads = self.flat_gradients(outputs, grad_outputs, create_graph, retain_graph)
        return tree_unflatten([self.undo(g) for g in grads], self.spec)

    def undo(self, t):
        """``t`` as the caller sees it: detached unless its graph reaches beyond this call's own leaves."""
        if not isinstance(t, Tensor) or not t.requires_grad or _reaches_outside(t, self.own):
            return t
        return t.detach()

    def undo_tree(self, tree):
        leaves, spec = tree_flatten(tree)
        return tree_unflatten([self.undo(x) for x in leaves], spec)


def _fresh_input(x, create_graph):
    if not isinstance(x, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(x)}")
    if x.requires_grad and create_graph:
        return boundary_alias(x)
    return x.detach().requires_grad_(True)


def _reaches_outside(t, own):
    """Whether ``t``'s graph leads to a leaf other than ``own`` ones (or to a derivative that is not
    implemented, which is kept so that differentiating it again raises)."""
    fn = t.grad_fn
    if fn is None:
        return id(t) not in own
    seen = {id(fn)}
    pending = [fn]
    while pending:
        node = pending.pop()
        if isinstance(node, NotTwiceDifferentiable):
            return True
        for edge in node._edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Tensor):
                if id(target) not in own:
                    return True
            elif id(target) not in seen:
                seen.add(id(target))
                pending.append(target)
    return False


def split_aux(output, has_aux, api):
    if not has_aux:
        return output, None
    if not (isinstance(output, tuple) and len(output) == 2):
        raise RuntimeError(f"{api}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return output


def grad_and_value(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to the arguments at ``argnums`` and its value: ``(grad, value)``, or
    ``(grad, (value, aux))`` with ``has_aux``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        api = "grad_and_value(f)(*args)"
        create_graph = is_grad_enabled()
        with enable_grad():
            call = Differentiated(args, argnums, create_graph)
            output, aux = split_aux(func(*call.args, **kwargs), has_aux, api)
            if not isinstance(output, Tensor):
                raise RuntimeError(f"{api}: Expected f(*args) to return a Tensor, got {type(output)}")
            if output.dim() != 0:
                raise RuntimeError(f"{api}: Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{output.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            grads = call.gradients([output], [None], create_graph)
        value = call.undo(output)
        return (grads, (value, call.undo_tree(aux))) if has_aux else (grads, value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to the arguments at ``argnums`` (``func`` returns a scalar tensor);
    ``(grad, aux)`` with ``has_aux``."""
    both = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        grads, value = both(*args, **kwargs)
        return (grads, value[1]) if has_aux else grads

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)`` (and ``aux``): ``vjp_fn(cotangents)`` gives the vector-Jacobian products
    with respect to every primal, as a tuple; it may be called several times."""
    api = "vjp(f, *primals)"
    if not primals:
        raise RuntimeError(f"{api}: Expected primals to be a non-empty tuple of Tensors.")
    create_graph = is_grad_enabled()
    with enable_grad():
        call = Differentiated(primals, tuple(range(len(primals))), create_graph)
        output, aux = split_aux(func(*call.args), has_aux, api)
        flat_out, out_spec = tree_flatten(output)
        if not flat_out:
            raise RuntimeError(f"{api}: Expected f to be a function that has non-empty output (got output = "
                               f"{output})")
        for o in flat_out:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{api}: expected f(*primals) to return only tensors, got unsupported type "
                                   f"{type(o)}")
            if not o.is_floating_point():
                raise RuntimeError("vjp(f, ...): All outputs of f must be floating-point or complex Tensors, got "
                                   f"Tensor with dtype {o.dtype}")

    def vjp_fn(cotangents, retain_graph=True, create_graph=None):
        if create_graph is None:
            create_graph = is_grad_enabled()
        flat_cot, cot_spec = tree_flatten(cotangents)
        if cot_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {cot_spec}, primal output: {out_spec}")
        with enable_grad():
            return call.gradients(flat_out, flat_cot, create_graph, retain_graph=retain_graph)

    result = call.undo_tree(output)
    return (result, vjp_fn, call.undo_tree(aux)) if has_aux else (result, vjp_fn)


def jacrev(func, argnums=0, *, has_aux=False, chunk_size=None, _preallocate_and_copy=False):
    """``func``'s Jacobian by reverse mode, one backward per output element: for each output, a tensor of
    shape ``output.shape + input.shape`` per argument at ``argnums`` (arranged as ``argnums``)."""
    if not (chunk_size is None or chunk_size > 0):
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        create_graph = is_grad_enabled()
        with enable_grad():
            call = Differentiated(args, argnums, create_graph)
            output, aux = split_aux(func(*call.args, **kwargs), has_aux, "jacrev(f, ...)(*args)")
            flat_out, out_spec = tree_flatten(output)
            for o in flat_out:
                if not isinstance(o, Tensor):
                    raise RuntimeError("jacrev(f, ...)(*args): expected f(*args) to return only tensors, got "
                                       f"unsupported type {type(o)}")
            jac = tree_unflatten([_jacobian_of(call, o, create_graph) for o in flat_out], out_spec)
        return (jac, call.undo_tree(aux)) if has_aux else jac

    return wrapper


def _jacobian_of(call, out, create_graph):
    """One output's Jacobian blocks, arranged as the differentiated arguments."""
    flat = out.reshape(-1)
    rows = [call.flat_gradients([flat[j]], [None], create_graph, retain_graph=True) for j in range(out.numel())]
    blocks = []
    for k, inp in enumerate(call.inputs):
        if rows:
            block = stack([r[k] for r in rows]).view(tuple(out.shape) + tuple(inp.shape))
        else:
            block = out.new_zeros(tuple(out.shape) + tuple(inp.shape), dtype=inp.dtype)
        blocks.append(call.undo(block))
    return tree_unflatten(blocks, call.spec)


def hessian(func, argnums=0):
    """The Hessian of a scalar ``func``: ``jacrev(jacrev(func, argnums), argnums)`` (PyTorch takes the outer
    Jacobian in forward mode; the values are the same)."""
    return jacrev(jacrev(func, argnums), argnums)
