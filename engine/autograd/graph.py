"""Nodes of the backward graph.

Every tensor produced by a differentiable operation points at the node that made it (``grad_fn``);
the node's edges point at the nodes (or, for leaves, the tensors themselves) that made its inputs.
Leaves appear in ``next_functions`` as ``AccumulateGrad`` nodes, created only when someone looks.
``link`` records a node and makes its outputs; built-in ops and custom Functions both record through it.
"""

from ..backend import device_of
from ..dtypes import FLOAT_KINDS
from ..tensor import Tensor, make_tensor
from .hooks import add_hook

FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors after they "
    "have already been freed). Saved intermediate values of the graph are freed when you call "
    ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
    "graph a second time or if you need to access saved tensors after calling backward."
)


class Node:
    """A function in the backward graph: takes the gradients of its outputs, returns its inputs'."""

    # Class-level defaults: a node pays for these only when they are set.
    _edges = ()
    _freed = False
    _pre_hooks = None  # {output index: {handle id: hook}} for hooks on non-leaf tensors
    _retained = None  # {output index: weakref to a tensor that retains its grad}
    _node_pre_hooks = None  # {handle id: fn(grad_outputs)} from register_prehook
    _post_hooks = None  # {handle id: fn(grad_inputs, grad_outputs)} from register_hook
    _saved_versions = None  # ((version counter, version at save, shape, dtype), ...)
    _name = "Node"
    num_outputs = 1
    saves_tensors = True  # whether backward needs values that release() frees

    def __repr__(self):
        return f"<{self.name()} object at {id(self):#x}>"

    def name(self):  # PyTorch's Node.name()
        return self._name

    @property
    def next_functions(self):
        out = []
        for edge in self._edges:
            if edge is None:
                out.append((None, 0))
            elif isinstance(edge[0], Tensor):
                out.append((AccumulateGrad.of(edge[0]), 0))
            else:
                out.append(edge)
        return tuple(out)

    def register_hook(self, fn):
        """``fn(grad_inputs, grad_outputs)`` after this node's backward; it may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = {}
        return add_hook(self._post_hooks, fn)

    def register_prehook(self, fn):
        """``fn(grad_outputs)`` before this node's backward; it may return new grad_outputs."""
        if self._node_pre_hooks is None:
            self._node_pre_hooks = {}
        return add_hook(self._node_pre_hooks, fn)

    def backward(self, *grads):
        raise NotImplementedError

    # ``backward_graph(*grads)``: the same gradients computed with differentiable tensor ops from tensors
    # (``create_graph=True``); it reads saved values back through ``saved_input``/``saved_output``. A node
    # without one still gives first derivatives there, and raises only when differentiated again.
    backward_graph = None

    def saved_input(self, index, data):
        """Input ``index`` of this node as a tensor holding ``data``, joined to the graph as the input was
        (PyTorch's SavedVariable): gradients reaching it flow on to whatever produced that input."""
        edge = self._edges[index] if index < len(self._edges) else None
        dev = device_of(data)
        if edge is None:
            return make_tensor(data, dev)
        source, nr = edge
        if isinstance(source, Tensor):
            if source._data is data:
                return source
            return link(Alias(), (source,), data, dev)
        t = make_tensor(data, dev)
        t._requires_grad = True
        t.grad_fn = source
        t._output_nr = nr
        return t

    def saved_output(self, data, index=0):
        """Output ``index`` of this node as a tensor holding ``data``, its gradient flowing into this node."""
        t = make_tensor(data, device_of(data))
        t._requires_grad = True
        t.grad_fn = self
        t._output_nr = index
        return t

    def release(self):
        """Drop what backward saved; a later backward through this node then raises."""

    def check_saved_versions(self):
        saved = self._saved_versions
        if not saved:
            return
        for counter, version, shape, dtype in saved:
            if counter[0] != version:
                dims = ", ".join(str(s) for s in shape)
                raise RuntimeError(
                    "one of the variables needed for gradient computation has been modified by an "
                    f"inplace operation: [{dtype.name} [{dims}]], which is an input or output of "
                    f"{self.name()}, is at version {counter[0]}; expected version {version} instead. "
                    "Hint: the backtrace further above can point to the operation that failed to "
                    "compute its gradient. Avoid the in-place operation, or clone() the tensor first."
                )

    def check_not_freed(self):
        if self._freed:
            raise RuntimeError(FREED_MESSAGE)


class AccumulateGrad(Node):
    """The node that stands for a leaf tensor in ``next_functions``."""

    _name = "AccumulateGrad"

    @classmethod
    def of(cls, tensor):
        acc = tensor._grad_accumulator
        if acc is None:
            acc = object.__new__(cls)
            acc.variable = tensor
            tensor._grad_accumulator = acc
        return acc


class Alias(Node):
    """The identity from a tensor to the one it stands for: a saved copy of a leaf (say, made contiguous) in a
    double backward, or an input at the edge of a nested computation (``boundary``)."""

    _name = "AliasBackward0"
    saves = 0
    saves_tensors = False

    def backward(self, g):
        return (g,)

    def backward_graph(self, g):
        return (g,)


# ----- recording -----
def link(node, inputs, out, dev):
    """Make the output tensor(s) of ``node`` and record the node in the graph."""
    edges = []
    for t in inputs:
        if t._requires_grad:
            fn = t.grad_fn
            edges.append((t, 0) if fn is None else (fn, t._output_nr))
        else:
            edges.append(None)
    node._edges = edges
    saves = node.saves
    if saves & 1:
        node._saved_versions = [saved_version(t) for t in inputs]
    if out.__class__ is tuple:
        outs = tuple(_graph_output(node, o, dev, i) for i, o in enumerate(out))
        if saves & 2:
            node._saved_versions = [*(node._saved_versions or ()), *(saved_version(o) for o in outs)]
        return outs
    t = make_tensor(out, dev)
    if out.dtype.kind in FLOAT_KINDS:
        t._requires_grad = True
        t.grad_fn = node
        if saves & 2:
            version = saved_version(t)
            if saves & 1:
                node._saved_versions.append(version)
            else:
                node._saved_versions = [version]
    return t


def _graph_output(node, data, dev, index):
    t = make_tensor(data, dev)
    if t._data.dtype.kind in FLOAT_KINDS:
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
    return (counter, counter[0], t._data.shape, t._data.dtype)
