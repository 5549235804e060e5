"""The backward pass: an iterative walk of the graph in dependency order, each node run once.

Gradients arriving at a node are summed in a buffer; the node runs when every consumer of its outputs
has delivered. No recursion, so graphs of any depth work; saved values are freed as nodes finish.
"""

import sys
import threading
import warnings

import numpy as np

from ..backend import CPU, device_context, device_of, transfer
from ..creation import tensor
from ..dtypes import FLOAT_KINDS
from ..tensor import Tensor, make_tensor
from .anomaly import check_backward
from .anomaly import state as _anomaly
from .double_backward import backward_with_graph, checked_hook_result, deliver_graph_to_leaf, through_leaf_hooks
from .grad_mode import set_grad_enabled
from .graph import Node
from .hooks import run_post_accumulate_hooks


def _as_grad_array(root, grad):
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if root._data.dtype.kind not in FLOAT_KINDS:
            raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                               f"{root.dtype}")
        if root._device is CPU:
            return np.ones(root._data.shape, dtype=root._data.dtype)
        with device_context(root._device):
            return root.xp.ones(root._data.shape, dtype=root._data.dtype)
    if not isinstance(grad, Tensor):
        grad = tensor(grad, dtype=root.dtype, device=root.device)
    if grad._data.shape != root._data.shape:
        raise RuntimeError(f"Mismatch in shape: grad_output[0] has a shape of {tuple(grad.shape)} and "
                           f"output[0] has a shape of {tuple(root.shape)}.")
    if grad._device is not root._device:
        raise RuntimeError(f"grad_output is on {grad.device} but the output is on {root.device}")
    data = grad._data
    if data.dtype != root._data.dtype:
        data = data.astype(root._data.dtype)
    return data


REFERENCE_CYCLE_WARNING = (
    "Using backward() with create_graph=True will create a reference cycle between the parameter and its gradient "
    "which can cause a memory leak. We recommend using autograd.grad when creating the graph to avoid this. If you "
    "have to use this function, make sure to reset the .grad fields of your parameters to None after use to break "
    "the cycle and avoid the leak.")


def _root_grad(root, grad, create_graph):
    """The gradient a root starts with: an array, or with ``create_graph`` a tensor (the given one when it
    carries a graph of its own, so results can be differentiated with respect to it)."""
    data = _as_grad_array(root, grad)
    if not create_graph:
        return data
    if isinstance(grad, Tensor) and grad._data is data:
        return grad
    return make_tensor(data, root._device)


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``engine.autograd.backward``: accumulate gradients of ``tensors`` into the leaves' ``.grad``; with
    ``create_graph`` those gradients carry a graph of their own, to be differentiated again."""
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None:
        grad_tensors = (None,) * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,)
    roots = []
    for t, g in zip(tensors, grad_tensors):
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append((t, _root_grad(t, g, create_graph)))
    capture = None
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        capture = {id(t): None for t in inputs}
    retain = create_graph if retain_graph is None else retain_graph
    if create_graph:
        warnings.warn(REFERENCE_CYCLE_WARNING, UserWarning, stacklevel=3)
    run(roots, bool(retain), capture, accumulate=True, create_graph=create_graph)


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: ``backward((self,), (gradient,))``."""
    backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """``engine.autograd.grad``: the gradients of ``outputs`` with respect to ``inputs``, as a tuple."""
    outputs = (outputs,) if isinstance(outputs, Tensor) else tuple(outputs)
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = (grad_outputs,)
    for t in inputs:
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
    roots = []
    for t, g in zip(outputs, grad_outputs):
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        roots.append((t, _root_grad(t, g, create_graph)))
    capture = {id(t): None for t in inputs}
    retain = create_graph if retain_graph is None else retain_graph
    run(roots, bool(retain), capture, accumulate=False, capture_tensors=inputs, create_graph=create_graph)
    result = []
    for t in inputs:
        g = capture[id(t)]
        if g is None:
            if materialize_grads:
                g = make_tensor(t.xp.zeros_like(t._data), t._device)
                if create_graph:  # as PyTorch: zeros that can take part in the next differentiation
                    g.requires_grad_(True)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        if g is not None and not isinstance(g, Tensor):
            g = make_tensor(g, t._device)
        if g is not None and g._data.dtype != t._data.dtype:  # each input's gradient in its own dtype, as
            g = g.to(t.dtype)  # PyTorch's engine casts it (a bfloat16 op that computed in float32)
        result.append(g)
    return tuple(result)


def _collect(roots):
    """Count, for every node reachable from the roots, how many edges lead into it; and for every leaf with
    post-accumulate hooks, how many gradients may reach it: ``{id: [leaf, count, reached]}``."""
    deps = {}
    hooked = {}
    stack = []
    for t, _ in roots:
        fn = t.grad_fn
        if fn is None:
            if t._post_accumulate_hooks:
                _count_use(hooked, t)
        elif fn not in deps:
            deps[fn] = 0
            stack.append(fn)
    while stack:
        node = stack.pop()
        for edge in node._edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                if target in deps:
                    deps[target] += 1
                else:
                    deps[target] = 1
                    stack.append(target)
            elif target._post_accumulate_hooks:
                _count_use(hooked, target)
    return deps, hooked


def _count_use(hooked, leaf):
    entry = hooked.get(id(leaf))
    if entry is None:
        hooked[id(leaf)] = [leaf, 1, False]
    else:
        entry[1] += 1


def _reached(hooked, leaf):
    """A gradient has been added into ``leaf``'s ``.grad``: its post-accumulate hooks run after the last one,
    once per pass as PyTorch's AccumulateGrad node runs them."""
    entry = hooked[id(leaf)]
    entry[1] -= 1
    entry[2] = True
    if entry[1] == 0:
        run_post_accumulate_hooks(leaf)


def _finish_hooked(hooked):
    """Leaves that some gradient reached while others never came (their nodes were skipped): their hooks now."""
    for leaf, remaining, reached in hooked.values():
        if reached and remaining > 0:
            run_post_accumulate_hooks(leaf)


def _walk_refs():
    """The references ``run``'s loop over a node's gradients holds to one that occurs once among them (the
    sequence, zip's result tuple, the loop variable, getrefcount's argument: the count differs between
    Python versions, so it is measured with the same statement): a count no higher means nothing else does."""
    for _, g in zip((None,), [np.empty(0)]):
        return sys.getrefcount(g)


_WALK_REFS = _walk_refs()


def _add(buffer, index, g):
    prev = buffer[index]
    buffer[index] = g if prev is None else prev + g


class _Passes(threading.local):
    """The callbacks queued for each backward pass running on this thread (a hook may start a nested one)."""

    def __init__(self):
        self.callbacks = []


_passes = _Passes()


class ExecutionEngine:
    """``Variable._execution_engine``: ``queue_callback(fn)`` runs ``fn()`` once the backward pass in progress
    has delivered every gradient (distributed data parallel waits there for its gradient reductions)."""

    @staticmethod
    def queue_callback(callback):
        if not _passes.callbacks:
            raise RuntimeError("Final callbacks can only be installed during backward pass.")
        _passes.callbacks[-1].append(callback)


def run(roots, retain_graph, capture, accumulate, capture_tensors=(), create_graph=False):
    """Propagate gradients from ``roots`` [(tensor, grad array)] through the graph; with ``create_graph``
    the gradients are tensors and each node's ``backward_graph`` records their own graph. Then run the
    callbacks queued during the pass, in order (one may queue another)."""
    callbacks = []
    _passes.callbacks.append(callbacks)
    try:
        _propagate(roots, retain_graph, capture, accumulate, capture_tensors, create_graph)
        done = 0
        while done < len(callbacks):
            callbacks[done]()
            done += 1
    finally:
        _passes.callbacks.pop()


def _propagate(roots, retain_graph, capture, accumulate, capture_tensors, create_graph):
    deps, hooked = _collect(roots)
    if not accumulate:
        hooked = {}  # grad() leaves .grad alone
    buffers = {}
    leaf_roots = []
    for t, g in roots:
        fn = t.grad_fn
        if fn is None:
            leaf_roots.append((t, g))
            continue
        buf = buffers.get(fn)
        if buf is None:
            buf = buffers[fn] = [None] * fn.num_outputs
        _add(buf, t._output_nr, g)
    # Non-leaf tensors whose gradient grad() must return: read at their node's buffer.
    nonleaf_capture = {}
    for t in capture_tensors:
        if t.grad_fn is not None:
            nonleaf_capture.setdefault(t.grad_fn, []).append(t)
    ready = [fn for fn, n in deps.items() if n == 0]
    # grad() runs only the nodes through which a gradient reaches one of its inputs, as PyTorch does.
    reaching = None if accumulate else _reaching(ready, deps, capture, nonleaf_capture)
    deliver = deliver_graph_to_leaf if create_graph else _deliver_to_leaf
    with set_grad_enabled(create_graph):
        for t, g in leaf_roots:
            if capture is None or id(t) in capture:
                deliver(t, g, capture, accumulate)
                if hooked and id(t) in hooked:
                    _reached(hooked, t)
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if reaching is not None and node not in reaching and node not in nonleaf_capture:
                _skip(node, deps, buffers, ready)
                continue
            if node._pre_hooks:
                grads = _run_pre_hooks(node, node._pre_hooks, grads, create_graph)
            if node._retained:
                _store_retained(node._retained, grads, create_graph)
            if nonleaf_capture and node in nonleaf_capture:
                for t in nonleaf_capture[node]:
                    capture[id(t)] = grads[t._output_nr]
                if reaching is not None and node not in reaching:
                    _skip(node, deps, buffers, ready)
                    continue
            if node._node_pre_hooks:
                grads = _run_node_hooks(node._node_pre_hooks, grads, create_graph)
            if node._freed:
                node.check_not_freed()
            if node._saved_versions:
                node.check_saved_versions()
            g0 = grads[0] if grads[0] is not None else next((g for g in grads if g is not None), None)
            if create_graph:
                in_grads = backward_with_graph(node, grads, g0._device)
            elif g0.__class__ is np.ndarray:
                in_grads = node.backward(*grads)
            else:  # run on the gradients' device
                with device_context(device_of(g0)):
                    in_grads = node.backward(*grads)
            if node._post_hooks:
                in_grads = _run_node_hooks(node._post_hooks, in_grads, create_graph, grads)
            if _anomaly.enabled:
                check_backward(node, grads, in_grads)
            if not retain_graph:
                node.release()
            edges = node._edges
            if len(in_grads) != len(edges):
                raise RuntimeError(f"function {node.name()} returned an incorrect number of gradients "
                                   f"(expected {len(edges)}, got {len(in_grads)})")
            for edge, g in zip(edges, in_grads):
                if edge is None:
                    continue
                target = edge[0]
                if target.__class__ is Tensor or isinstance(target, Tensor):
                    if g is None or not (capture is None or id(target) in capture):
                        continue  # backward(inputs=...) and grad() reach only the leaves they name
                    if create_graph:
                        deliver(target, g, capture, accumulate)
                    else:
                        owned = sys.getrefcount(g) <= _WALK_REFS
                        deliver(target, g, capture, accumulate, owned)
                    if hooked and id(target) in hooked:
                        _reached(hooked, target)
                    continue
                if g is not None:
                    buf = buffers.get(target)
                    if buf is None:
                        if target.num_outputs == 1:
                            buffers[target] = [g]
                        else:
                            buf = buffers[target] = [None] * target.num_outputs
                            buf[edge[1]] = g
                    else:
                        prev = buf[edge[1]]
                        buf[edge[1]] = g if prev is None else prev + g
                n = deps[target] - 1
                deps[target] = n
                if n == 0:
                    if target in buffers:
                        ready.append(target)
                    else:  # nothing flowed in: skip it, and what only it feeds
                        _skip(target, deps, buffers, ready)
        if hooked:
            _finish_hooked(hooked)


def _reaching(starts, deps, capture, nonleaf_capture):
    """The nodes from which an edge path leads to a captured leaf or to a captured non-leaf's node."""
    remaining = dict(deps)
    order = []
    stack = list(starts)
    while stack:  # parents before children
        node = stack.pop()
        order.append(node)
        for edge in node._edges:
            if edge is not None and isinstance(edge[0], Node):
                remaining[edge[0]] -= 1
                if remaining[edge[0]] == 0:
                    stack.append(edge[0])
    reaching = set()
    for node in reversed(order):
        for edge in node._edges:
            if edge is None:
                continue
            target = edge[0]
            if (target in reaching or target in nonleaf_capture) if isinstance(target, Node) \
                    else id(target) in capture:
                reaching.add(node)
                break
    return reaching


def _skip(node, deps, buffers, ready):
    stack = [node]
    while stack:
        n = stack.pop()
        for edge in n._edges:
            if edge is None or not isinstance(edge[0], Node):
                continue
            target = edge[0]
            deps[target] -= 1
            if deps[target] == 0:
                if target in buffers:
                    ready.append(target)
                else:
                    stack.append(target)


def _wrapped(g, create_graph):
    """A gradient as hooks see it: a tensor (already one with ``create_graph``)."""
    return g if create_graph else make_tensor(g, device_of(g))


def _run_pre_hooks(node, pre_hooks, grads, create_graph):
    grads = list(grads)
    for index, hooks in pre_hooks.items():
        g = grads[index]
        if g is None:
            continue
        for hook in list(hooks.values()):
            out = hook(_wrapped(g, create_graph))
            if out is not None:
                g = checked_hook_result(out, g, create_graph)
        grads[index] = g
    return grads


def _run_node_hooks(hooks, grads, create_graph, grad_outputs=None):
    """Hooks on a node: ``fn(grads)`` (pre) or ``fn(grads, grad_outputs)`` (post); a returned tuple of
    tensors replaces ``grads``."""
    grads = list(grads)
    for hook in list(hooks.values()):
        as_tensors = tuple(None if g is None else _wrapped(g, create_graph) for g in grads)
        if grad_outputs is None:
            args = (as_tensors,)
        else:
            args = (as_tensors, tuple(None if g is None else _wrapped(g, create_graph) for g in grad_outputs))
        out = hook(*args)
        if out is None:
            continue
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(out) != len(grads):
            raise RuntimeError(f"hook returned {len(out)} gradients; expected {len(grads)}")
        grads = [None if o is None else checked_hook_result(o, g, create_graph) if g is not None
                 else o if create_graph else o._data
                 for o, g in zip(out, grads)]
    return grads


def _store_retained(retained, grads, create_graph):
    for index, ref in retained.items():
        t = ref()
        g = grads[index]
        if t is None or g is None:
            continue
        if create_graph:
            t._grad = g if t._grad is None else t._grad + g
        elif t._grad is None:
            t._grad = make_tensor(g.copy(), t._device)
        else:
            t._grad = make_tensor(t._grad._data + g, t._device)


def _deliver_to_leaf(t, g, capture, accumulate, owned=False):
    """A leaf's gradient array through its hooks into ``capture`` and, when accumulating, ``.grad``.
    ``owned``: nothing but this call holds ``g``, so a new ``.grad`` takes it instead of a copy (PyTorch's
    AccumulateGrad steals a gradient whose use count is 1); a copy would cost a pass over memory per leaf."""
    if t._hooks or capture is not None:
        g = through_leaf_hooks(t, g, capture, False)
        owned = False  # a hook saw it (and may keep it), or capture holds it
    if not accumulate:
        return
    if g.__class__ is not np.ndarray or t._device is not CPU:
        g = transfer(g, device_of(g), t._device)
        owned = False
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
        owned = True  # a new array
    if g.shape != t._data.shape:
        g = g.reshape(t._data.shape) if g.size == t._data.size else g
        owned = False
    current = t._grad
    if current is None:
        # Otherwise a copy: the same array may flow to several leaves or be kept elsewhere, and users
        # modify .grad in place.
        if not (owned and g.base is None and g.flags.c_contiguous and g.flags.writeable):
            g = g.copy()
        t._grad = make_tensor(g, t._device)
    else:
        current._data += g
