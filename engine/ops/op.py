"""``Op``: the base of every built-in differentiable operation, and how one is applied to tensors.

An op's ``forward`` and ``backward`` work on raw arrays of the tensors' device (NumPy or CuPy), so one
body serves both. ``forward`` runs on the node instance itself and keeps on it what ``backward``
needs; when no input requires grad the node is simply dropped.
"""

import numpy as np

from ..autograd.graph import Node
from ..autograd.grad_mode import state as _grad_state
from ..backend import CPU, array_module, device_context, device_of, transfer
from ..tensor import Tensor, make_tensor

_new = object.__new__


class Op(Node):
    __slots__ = ()
    # Which tensors backward reads back, for the in-place check: 1 inputs, 2 output, 3 both.
    saves = 0

    def forward(self, *arrays):
        raise NotImplementedError

    def release(self):
        """Free saved arrays: every op keeps them in its own slots, which we clear."""
        if self.saves_tensors:
            for cls in type(self).__mro__:
                for slot in cls.__dict__.get("__slots__", ()):
                    if not slot.startswith("_") and hasattr(self, slot):
                        delattr(self, slot)
            self._freed = True

    @classmethod
    def apply(cls, *inputs, **options):
        """Run the op on tensors ``inputs`` (all on one device); ``options`` go to forward as is."""
        node = _new(cls)
        x = inputs[0]
        dev = x._device
        needs_grad = x._requires_grad
        mixed = False
        for t in inputs[1:]:
            if t._device is not dev:
                mixed = True
            if t._requires_grad:
                needs_grad = True
        if mixed:
            dev = common_device(inputs)
            arrays = [transfer(t._data, t._device, dev) for t in inputs]
        else:
            arrays = [t._data for t in inputs]
        if dev is CPU:
            out = node.forward(*arrays, **options)
        else:
            with device_context(dev):
                out = node.forward(*arrays, **options)
        if needs_grad and _grad_state.enabled:
            return link(node, inputs, out, dev)
        return make_tensor(out, dev)


def link(node, inputs, out, dev):
    """Make the output tensor(s) of ``node`` and record the node in the graph."""
    node._edges = tuple([edge_to(t) for t in inputs])
    saves = node.saves
    if saves & 1:
        node._saved_versions = tuple([saved_version(t) for t in inputs])
    if isinstance(out, tuple):
        outs = tuple(_graph_output(node, o, dev, i) for i, o in enumerate(out))
        if saves & 2:
            node._saved_versions = (*(getattr(node, "_saved_versions", None) or ()),
                                    *(saved_version(o) for o in outs))
        return outs
    result = _graph_output(node, out, dev, 0)
    if saves & 2:
        prev = node._saved_versions if saves & 1 else ()
        node._saved_versions = (*prev, saved_version(result))
    return result


def _graph_output(node, data, dev, index):
    t = make_tensor(data, dev)
    if t._data.dtype.kind == "f":
        t._requires_grad = True
        t.grad_fn = node
        t._output_nr = index
    return t


def edge_to(t):
    """The edge from a node to the producer of input ``t`` (a node, a leaf tensor, or None)."""
    if not t._requires_grad:
        return None
    fn = t.grad_fn
    if fn is None:
        return (t, 0)
    return (fn, t._output_nr)


def saved_version(t):
    counter = t._version_counter
    if counter is None:
        counter = t._version_counter = [0]
    return (counter, counter[0], t._data.shape, t._data.dtype.name)


def common_device(tensors):
    """The device of a mixed list of tensors; CPU 0-dim tensors may join others, as in PyTorch."""
    dev = None
    for t in tensors:
        if t._device is CPU and t._data.ndim == 0:
            continue
        if dev is None:
            dev = t._device
        elif t._device is not dev:
            raise RuntimeError(
                "Expected all tensors to be on the same device, but found at least two devices, "
                f"{dev} and {t._device}!"
            )
    return CPU if dev is None else dev


def xp_of(array):
    """The array module (NumPy, CuPy or its stand-in) that ``array`` belongs to."""
    if type(array) is np.ndarray:
        return np
    return array_module(device_of(array))


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``, undoing NumPy broadcasting."""
    if grad.shape == shape:
        return grad
    ndim = len(shape)
    extra = grad.ndim - ndim
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, s in enumerate(shape) if s == 1 and grad.shape[i] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


__all__ = ["Op", "Tensor", "common_device", "edge_to", "link", "make_tensor", "unbroadcast", "xp_of"]
