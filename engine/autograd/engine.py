"""The backward pass: an iterative walk of the graph in dependency order, each node run once.

Gradients arriving at a node are summed in a buffer; the node runs when every consumer of its outputs
has delivered. No recursion, so graphs of any depth work; saved values are freed as nodes finish.
"""

import numpy as np

from ..backend import CPU, device_context, device_of, transfer
from ..creation import tensor
from ..tensor import Tensor, make_tensor
from .grad_mode import no_grad
from .graph import Node


def _as_grad_array(root, grad):
    if grad is None:
        if root._data.size != 1:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        if root._data.dtype.kind != "f":
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


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None):
    """``engine.autograd.backward``: accumulate gradients of ``tensors`` into the leaves' ``.grad``."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported yet")
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
        roots.append((t, _as_grad_array(t, g)))
    capture = None
    if inputs is not None:
        inputs = (inputs,) if isinstance(inputs, Tensor) else tuple(inputs)
        capture = {id(t): None for t in inputs}
    run(roots, bool(retain_graph), capture, accumulate=True)


def tensor_backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
    """``Tensor.backward``: ``backward((self,), (gradient,))``."""
    backward((self,), None if gradient is None else (gradient,), retain_graph, create_graph, inputs)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=None,
         materialize_grads=False):
    """``engine.autograd.grad``: the gradients of ``outputs`` with respect to ``inputs``, as a tuple."""
    if create_graph:
        raise NotImplementedError("create_graph=True (higher-order gradients) is not supported yet")
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
        roots.append((t, _as_grad_array(t, g)))
    capture = {id(t): None for t in inputs}
    run(roots, bool(retain_graph), capture, accumulate=False, capture_tensors=inputs)
    result = []
    for t in inputs:
        g = capture[id(t)]
        if g is None:
            if materialize_grads:
                g = t.xp.zeros_like(t._data)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        result.append(None if g is None else make_tensor(g, t._device))
    return tuple(result)


def _collect(roots):
    """Count, for every node reachable from the roots, how many edges lead into it."""
    deps = {}
    stack = []
    for t, _ in roots:
        fn = t.grad_fn
        if fn is not None and fn not in deps:
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
    return deps


def _add(buffer, index, g):
    prev = buffer[index]
    buffer[index] = g if prev is None else prev + g


def run(roots, retain_graph, capture, accumulate, capture_tensors=()):
    """Propagate gradients from ``roots`` [(tensor, grad array)] through the graph."""
    deps = _collect(roots)
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
    with no_grad():
        for t, g in leaf_roots:
            _deliver_to_leaf(t, g, capture, accumulate)
        while ready:
            node = ready.pop()
            grads = buffers.pop(node)
            if node._pre_hooks:
                grads = _run_pre_hooks(node, node._pre_hooks, grads)
            if node._retained:
                _store_retained(node._retained, grads)
            if nonleaf_capture and node in nonleaf_capture:
                for t in nonleaf_capture[node]:
                    capture[id(t)] = grads[t._output_nr]
            if node._node_pre_hooks:
                grads = _run_node_hooks(node._node_pre_hooks, grads)
            if node._freed:
                node.check_not_freed()
            if node._saved_versions:
                node.check_saved_versions()
            g0 = grads[0] if grads[0] is not None else next((g for g in grads if g is not None), None)
            if g0.__class__ is np.ndarray:
                in_grads = node.backward(*grads)
            else:  # run on the gradients' device
                with device_context(device_of(g0)):
                    in_grads = node.backward(*grads)
            if node._post_hooks:
                in_grads = _run_node_hooks(node._post_hooks, in_grads, grads)
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
                    if g is not None:
                        _deliver_to_leaf(target, g, capture, accumulate)
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


def _run_pre_hooks(node, pre_hooks, grads):
    grads = list(grads)
    for index, hooks in pre_hooks.items():
        g = grads[index]
        if g is None:
            continue
        for hook in list(hooks.values()):
            out = hook(make_tensor(g, device_of(g)))
            if out is not None:
                g = _checked_hook_result(out, g)
        grads[index] = g
    return grads


def _as_tensors(grads):
    return tuple(None if g is None else make_tensor(g, device_of(g)) for g in grads)


def _run_node_hooks(hooks, grads, grad_outputs=None):
    """Hooks on a node: ``fn(grads)`` (pre) or ``fn(grads, grad_outputs)`` (post); a returned tuple of
    tensors replaces ``grads``."""
    grads = list(grads)
    for hook in list(hooks.values()):
        args = (_as_tensors(grads),) if grad_outputs is None else (_as_tensors(grads), _as_tensors(grad_outputs))
        out = hook(*args)
        if out is None:
            continue
        out = tuple(out) if isinstance(out, (tuple, list)) else (out,)
        if len(out) != len(grads):
            raise RuntimeError(f"hook returned {len(out)} gradients; expected {len(grads)}")
        grads = [None if o is None else _checked_hook_result(o, g) if g is not None else o._data
                 for o, g in zip(out, grads)]
    return grads


def _checked_hook_result(out, g):
    if not isinstance(out, Tensor):
        raise TypeError(f"hook returned an object of type {type(out).__name__}; expected a Tensor or None")
    if out._data.shape != g.shape:
        raise RuntimeError(f"hook returned a gradient of shape {tuple(out.shape)}; expected {g.shape}")
    return out._data


def _store_retained(retained, grads):
    for index, ref in retained.items():
        t = ref()
        g = grads[index]
        if t is None or g is None:
            continue
        if t._grad is None:
            t._grad = make_tensor(g.copy(), t._device)
        else:
            t._grad = make_tensor(t._grad._data + g, t._device)


def _deliver_to_leaf(t, g, capture, accumulate):
    hooks = t._hooks
    if hooks:
        for hook in list(hooks.values()):
            out = hook(make_tensor(g, t._device))
            if out is not None:
                g = _checked_hook_result(out, g)
    if capture is not None and id(t) in capture:
        prev = capture[id(t)]
        capture[id(t)] = g if prev is None else prev + g
    if not accumulate:
        return
    if g.__class__ is not np.ndarray or t._device is not CPU:
        g = transfer(g, device_of(g), t._device)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if g.shape != t._data.shape:
        g = g.reshape(t._data.shape) if g.size == t._data.size else g
    current = t._grad
    if current is None:
        # A copy: the same array may flow to several leaves, and users modify .grad in place.
        t._grad = make_tensor(g.copy(), t._device)
    else:
        current._data += g
