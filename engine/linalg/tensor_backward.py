"""``array_backward``: the array backward of an op whose gradient is written once, as its ``backward_graph`` in
tensor ops (the newer factorizations, where a second array copy of a long formula would buy little speed)."""

from ..autograd.grad_mode import no_grad
from ..backend import device_of
from ..tensor import make_tensor


def array_backward(node, grads):
    """``node.backward_graph`` run without recording on gradient arrays ``grads``; arrays (or None) back."""
    with no_grad():
        out = node.backward_graph(*(None if g is None else make_tensor(g, device_of(g)) for g in grads))
    return tuple(None if t is None else t._data for t in out)
