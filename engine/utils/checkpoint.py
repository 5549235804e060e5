"""``engine.utils.checkpoint``: activation checkpointing, as ``torch.utils.checkpoint``.

A checkpointed function keeps nothing of its forward but its inputs; backward runs it again with grad
enabled (replaying the random state, so dropout draws the same masks) and backpropagates through that
recomputed graph.

- ``use_reentrant=True`` (PyTorch's default when the argument is left out, with its warning) is PyTorch's
  ``CheckpointFunction``: a custom Function whose backward calls ``backward`` on the recomputed outputs, which
  accumulates into the parameters directly; only the tensor arguments are its inputs.
- ``use_reentrant=False`` records the forward, notes which tensors outside the function it reached (the tensor
  arguments, the leaves it used, such as parameters) and keeps a single ``CheckpointBackward`` node in place of
  the graph in between. Its gradients flow through the engine like any node's, ``autograd.grad`` works, and with
  ``create_graph`` the recomputed gradients carry their own graph, so checkpointed code is twice differentiable.
  A non-leaf tensor the function reads from outside (not an argument) is followed back to its leaves: right,
  but that part of the graph is walked and backpropagated again; pass such tensors as arguments.

The random state replayed is the CPU generator's (the engine's CUDA generators are not saved).
"""

import contextlib
import warnings

from ..autograd.boundary import boundary_alias, cut
from ..autograd.engine import backward as _backward
from ..autograd.engine import grad as _grad
from ..autograd.function import Function
from ..autograd.grad_mode import enable_grad, is_grad_enabled, no_grad
from ..autograd.graph import Node, edge_to, saved_version
from ..backend import device_of
from ..func.pytree import tree_flatten, tree_unflatten
from ..random import get_rng_state, set_rng_state
from ..tensor import Tensor, make_tensor

__all__ = ["checkpoint", "checkpoint_sequential", "detach_variable", "noop_context_fn"]

_DETERMINISM_CHECKS = ("default", "none")


def noop_context_fn():
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs):
    """The tensors of ``inputs`` detached, each requiring grad as the original did."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for inp in inputs:
        if not isinstance(inp, Tensor):
            out.append(inp)
            continue
        x = inp.detach()
        x.requires_grad = inp.requires_grad
        out.append(x)
    return tuple(out)


def check_backward_validity(inputs):
    if not any(inp.requires_grad for inp in inputs if isinstance(inp, Tensor)):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", stacklevel=2)


@contextlib.contextmanager
def _replayed_rng(state):
    """Run with the random state ``state`` (None: as it is), restoring the surrounding state afterwards."""
    if state is None:
        yield
        return
    current = get_rng_state()
    set_rng_state(state)
    try:
        yield
    finally:
        set_rng_state(current)


def checkpoint(function, *args, use_reentrant=None, context_fn=noop_context_fn, determinism_check="default",
               debug=False, early_stop=True, **kwargs):
    """``function(*args, **kwargs)`` without keeping its intermediate values for backward: they are computed
    again when the gradient is needed."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                      "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs and use_reentrant:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))
    if use_reentrant:
        if context_fn is not noop_context_fn or debug is not False:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        return CheckpointFunction.apply(function, preserve, *args)
    if debug and context_fn is not noop_context_fn:
        raise ValueError("debug=True is incompatible with non-default context_fn")
    if determinism_check not in _DETERMINISM_CHECKS:
        raise ValueError(f"determinism_check should be one of {list(_DETERMINISM_CHECKS)}, but got "
                         f"{determinism_check}")
    return _checkpoint_without_reentrant(function, preserve, context_fn, args, kwargs)


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):
    """Run ``functions`` (a list, or a module's children) in order, checkpointing all but the last of
    ``segments`` equal runs of them."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                      "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                      "the two variants.", stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(arg for arg in kwargs))

    def run_function(start, end, functions):
        def forward(input):
            for j in range(start, end + 1):
                input = functions[j](input)
            return input

        return forward

    if hasattr(functions, "children"):
        functions = list(functions.children())
    segment_size = len(functions) // segments
    end = -1
    for start in range(0, segment_size * (segments - 1), segment_size):
        end = start + segment_size - 1
        input = checkpoint(run_function(start, end, functions), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return run_function(end + 1, len(functions) - 1, functions)(input)


class CheckpointFunction(Function):
    """The reentrant variant: forward under ``no_grad``, backward recomputes and calls ``backward``."""

    @staticmethod
    def forward(ctx, run_function, preserve_rng_state, *args):
        check_backward_validity(args)
        ctx.run_function = run_function
        ctx.fwd_rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = [None if isinstance(a, Tensor) else a for a in args]
        ctx.tensor_indices = [i for i, a in enumerate(args) if isinstance(a, Tensor)]
        ctx.save_for_backward(*(a for a in args if isinstance(a, Tensor)))
        with no_grad():
            return run_function(*args)

    @staticmethod
    def backward(ctx, *args):
        inputs = list(ctx.inputs)
        for i, t in zip(ctx.tensor_indices, ctx.saved_tensors):
            inputs[i] = t
        with _replayed_rng(ctx.fwd_rng_state):
            detached = detach_variable(tuple(inputs))
            with enable_grad():
                outputs = ctx.run_function(*detached)
        if isinstance(outputs, Tensor):
            outputs = (outputs,)
        pairs = [(o, g) for o, g in zip(outputs, args) if isinstance(o, Tensor) and o.requires_grad]
        if not pairs:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        _backward([o for o, _ in pairs], [g for _, g in pairs])
        return (None, None, *(inp.grad if isinstance(inp, Tensor) else None for inp in detached))


def _boundary_args(args):
    """``args`` with each tensor that requires grad replaced by a boundary alias of it."""
    return [boundary_alias(a) if isinstance(a, Tensor) and a.requires_grad else a for a in args]


def _checkpoint_without_reentrant(function, preserve, context_fn, args, kwargs):
    if not is_grad_enabled():
        return function(*args, **kwargs)
    forward_context, recompute_context = context_fn()
    node = CheckpointBackward(function, args, kwargs, get_rng_state() if preserve else None, recompute_context)
    call_args = _boundary_args(args)
    with forward_context:
        output = function(*call_args, **kwargs)
    flat, spec = tree_flatten(output)
    node.record(call_args, flat)
    return tree_unflatten(node.outputs(flat), spec)


class CheckpointBackward(Node):
    """The non-reentrant checkpoint's node: edges to the function's tensor arguments and to the leaves its
    graph reached; backward recomputes the function and takes the gradients of that graph."""

    _name = "CheckpointBackward"

    def __init__(self, function, args, kwargs, rng_state, recompute_context):
        self._function, self._args, self._kwargs = function, args, kwargs
        self._rng_state, self._recompute_context = rng_state, recompute_context
        self._saved_versions = [saved_version(a) for a in args if isinstance(a, Tensor)]

    def record(self, call_args, flat_outputs):
        """Find the boundary of the graph just recorded from ``call_args`` to ``flat_outputs``."""
        boundary = {id(a.grad_fn): i for i, a in enumerate(call_args) if isinstance(a, Tensor) and a.requires_grad}
        self._arg_indices = sorted(boundary.values())
        leaves = {}
        seen = set(boundary)
        stack = [o.grad_fn for o in flat_outputs if isinstance(o, Tensor) and o.grad_fn is not None]
        while stack:
            node = stack.pop()
            if id(node) in seen:
                continue
            seen.add(id(node))
            for edge in node._edges:
                if edge is None:
                    continue
                target = edge[0]
                if isinstance(target, Tensor):
                    leaves.setdefault(id(target), target)
                elif id(target) not in seen:
                    stack.append(target)
        self._leaves = list(leaves.values())
        self._edges = [edge_to(self._args[i]) for i in self._arg_indices] + [(t, 0) for t in self._leaves]
        self._positions = [k for k, o in enumerate(flat_outputs) if isinstance(o, Tensor) and o.requires_grad]

    @property
    def num_outputs(self):
        return len(self._positions)

    def outputs(self, flat):
        """The function's outputs, those that require grad as this node's outputs (the recorded graph behind
        them is let go)."""
        out = list(flat)
        for nr, k in enumerate(self._positions):
            t = make_tensor(flat[k]._data, flat[k]._device)
            t._requires_grad = True
            t.grad_fn = self
            t._output_nr = nr
            out[k] = t
        return out

    def backward(self, *grads):
        dev_grads = [None if g is None else make_tensor(g, device_of(g)) for g in grads]
        return tuple(None if g is None else g._data for g in self._recompute_grads(dev_grads, False))

    def backward_graph(self, *grads):
        return self._recompute_grads(grads, True)

    def _recompute_grads(self, grads, create_graph):
        self.check_not_freed()
        with _replayed_rng(self._rng_state), enable_grad(), self._recompute_context:
            call_args = _boundary_args(self._args)
            flat = tree_flatten(self._function(*call_args, **self._kwargs))[0]
        outputs = [flat[k] if k < len(flat) else None for k in self._positions]
        roots = [(o, g) for o, g in zip(outputs, grads)
                 if g is not None and isinstance(o, Tensor) and o.requires_grad]
        inputs = [call_args[i] for i in self._arg_indices] + self._leaves
        if not roots:
            return (None,) * len(inputs)
        hooks = [t._hooks for t in self._leaves]
        for t in self._leaves:  # the leaves' hooks run once, when the outer backward delivers to them
            t._hooks = None
        try:
            with cut(inputs[:len(self._arg_indices)]):
                return _grad([o for o, _ in roots], inputs, [g for _, g in roots], retain_graph=True,
                             create_graph=create_graph, allow_unused=True)
        finally:
            for t, h in zip(self._leaves, hooks):
                t._hooks = h

    def release(self):
        self._function = self._args = self._kwargs = None
        self._freed = True

