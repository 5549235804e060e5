"""The backward pass with ``create_graph=True``: gradients are tensors, and each node computes its inputs'
gradients with differentiable ops (``Node.backward_graph``), so the result can be differentiated again.

A node without such a formula still gives correct first derivatives from its array backward; its results
then carry a ``NotTwiceDifferentiable`` node that raises when a later backward reaches it, as PyTorch does
for derivatives it does not implement.
"""

from ..backend import CPU, device_context, device_of
from ..dtypes import FLOAT_KINDS
from ..tensor import Tensor, make_tensor
from .grad_mode import no_grad
from .graph import Node, edge_to


class NotTwiceDifferentiable(Node):
    """Stands for the missing second derivative of ``op``; reaching it in a backward raises."""

    saves_tensors = False

    def __init__(self, op_name):
        self._op_name = op_name
        self._name = f"{op_name}Backward"

    def backward(self, *grads):
        raise RuntimeError(f"the derivative of {self._op_name}'s backward is not implemented: a gradient "
                           "computed with create_graph=True cannot be differentiated again through "
                           f"{self._op_name}")

    backward_graph = backward


def backward_with_graph(node, grads, dev):
    """``node``'s input gradients as tensors, for gradient tensors ``grads`` on device ``dev``."""
    formula = node.backward_graph
    if formula is None:
        return backward_without_graph(node, grads, dev)
    if dev is CPU:
        return formula(*grads)
    with device_context(dev):
        return formula(*grads)


def backward_without_graph(node, grads, dev):
    """``node``'s array backward on gradient tensors: right first derivatives that end the graph there."""
    arrays = [None if g is None else g._data for g in grads]
    with no_grad():
        if dev is CPU:
            out = node.backward(*arrays)
        else:
            with device_context(dev):
                out = node.backward(*arrays)
    stop = NotTwiceDifferentiable(node.name())
    # Edges to what the missing derivative depends on, so that a later grad() reaches it and says so.
    stop._edges = [*node._edges, *(edge_to(g) for g in grads if g is not None)]
    return tuple(None if a is None else _ending_at(a, stop) for a in out)


def _ending_at(array, stop):
    t = make_tensor(array, device_of(array))
    if array.dtype.kind in FLOAT_KINDS:
        t._requires_grad = True
        t.grad_fn = stop
    return t


def checked_hook_result(out, g, create_graph):
    """What a hook returned, checked against the gradient ``g`` it replaces: an array, or with
    ``create_graph`` the tensor itself."""
    if not isinstance(out, Tensor):
        raise TypeError(f"hook returned an object of type {type(out).__name__}; expected a Tensor or None")
    if out._data.shape != tuple(g.shape):
        raise RuntimeError(f"hook returned a gradient of shape {tuple(out.shape)}; expected {tuple(g.shape)}")
    return out if create_graph else out._data


def through_leaf_hooks(t, g, capture, create_graph):
    """A leaf's gradient after the leaf's hooks, also added into ``grad()``'s ``capture`` when it asks for this
    leaf: an array, or with ``create_graph`` a tensor."""
    hooks = t._hooks
    if hooks:
        for hook in list(hooks.values()):
            out = hook(g if create_graph else make_tensor(g, t._device))
            if out is not None:
                g = checked_hook_result(out, g, create_graph)
    if capture is not None and id(t) in capture:
        prev = capture[id(t)]
        capture[id(t)] = g if prev is None else prev + g
    return g


def deliver_graph_to_leaf(t, g, capture, accumulate):
    """A leaf's gradient tensor ``g``: through its hooks, into ``capture`` and, when accumulating, ``.grad``
    (kept with its graph; an existing ``.grad`` is replaced by the sum, not changed in place)."""
    g = through_leaf_hooks(t, g, capture, True)
    if not accumulate:
        return
    if g._device is not t._device or g._data.dtype != t._data.dtype:
        g = g.to(device=t.device, dtype=t.dtype)
    if g._data.shape != t._data.shape:
        g = g.reshape(t.shape)
    t._grad = g if t._grad is None else t._grad + g
