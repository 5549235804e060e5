"""``LinearMap``: the gradient map of an op that is linear in its input (pooling, padding) as a differentiable
op of its own. Its backward is the adjoint map (the op's forward again), whose backward is the map, so
gradients of any order follow from two array functions.

PyTorch's gradient functions of these ops (``max_pool2d_with_indices_backward``, ``reflection_pad2d_backward``,
...) also take the op's input, with zero derivative (``self: zeros_like(self)``), so their result requires
grad whenever the input does; ``input_gradient`` mirrors that with a stand-in for the input whose values are
never read.
"""

from ..tensor import Tensor
from .op import Op, xp_of


class LinearMap(Op):
    """``fn(g)``, with backward ``adjoint``; any further inputs only make the result depend on them."""

    __slots__ = ("_name", "adjoint", "adjoint_name", "fn")

    def forward(self, g, *_, maps=None):
        (self.fn, self._name), (self.adjoint, self.adjoint_name) = maps
        return self.fn(g)

    def backward(self, gg):
        return (None if self._edges[0] is None else self.adjoint(gg), *(None,) * (len(self._edges) - 1))

    def backward_graph(self, gg):
        maps = ((self.adjoint, self.adjoint_name), (self.fn, self._name))
        return (None if self._edges[0] is None else LinearMap.apply(gg, maps=maps),
                *(None,) * (len(self._edges) - 1))


def _stand_in(node, shape, like):
    """Input 0 of ``node`` in the graph, for a result that depends on it with zero derivative: the input itself
    when it is a leaf, else a zero-stride placeholder of its shape joined to its producer; None when it takes
    no gradient."""
    edge = node._edges[0]
    if edge is None:
        return None
    if isinstance(edge[0], Tensor):
        return edge[0]
    xp = xp_of(like)
    return node.saved_input(0, xp.broadcast_to(xp.zeros((), like.dtype), shape))


def input_gradient(node, g, fn, adjoint, input_shape=None):
    """The input gradient ``fn(g)`` of ``node``, an op linear in its input whose forward on arrays is
    ``adjoint``, as a ``LinearMap`` named after ``node``. With ``input_shape`` the result also depends, with
    zero derivative, on the input (of that shape), as PyTorch's does."""
    name = node._name
    head, found, tail = name.rpartition("Backward")
    maps = ((fn, f"{head}BackwardBackward{tail}" if found else f"{name}Backward"), (adjoint, name))
    dep = None if input_shape is None else _stand_in(node, input_shape, g._data)
    return LinearMap.apply(g, maps=maps) if dep is None else LinearMap.apply(g, dep, maps=maps)


__all__ = ["LinearMap", "input_gradient"]
