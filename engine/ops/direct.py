"""Direct calls of small CPU ops: where no graph is recorded, an op's wrapper may call its implementation's
array function and wrap the result itself. The node, ``Op.apply`` and ``backend.choose`` cost about 1 us a call
(half of a scan or a reduction of 1e3 elements). The wrapper must compute what the node's ``forward`` would,
with the implementation that ``choose`` would pick, and take the usual path where ``direct`` does not hold."""

from .. import backend
from ..autocast_state import state as _autocast
from ..autograd.grad_mode import state as _grad_state
from ..backend import CPU
from .op import translate_array_error

_new = object.__new__
_NONE = {}


def direct(t):
    """Whether an op on ``t`` alone may skip its node: a CPU tensor whose result records no graph, not bfloat16
    (which some ops compute in float32), with autocast off and no implementation preferred or disabled."""
    return (t._device is CPU and not (t._requires_grad and _grad_state.enabled) and not _autocast.active
            and not (backend._preferred or backend._disabled) and t._data.dtype.kind != "V")


def first(implementations, x, options=_NONE):
    """The implementation that ``backend.choose`` picks for array ``x`` and the dict ``options`` where ``direct``
    holds (a dict, not keywords: each packing costs ~0.1 us)."""
    for impl in implementations:
        if impl.applies(x, **options):
            return impl
    raise RuntimeError("no implementation of this op takes the call")


def run(op, x, options):
    """The output arrays of node ``op``'s ``forward`` on array ``x`` and the dict ``options`` where ``direct``
    holds, the node bare (for an op whose forward is more than one implementation call)."""
    node = _new(op)
    if op.implementations:
        node._impl = first(op.implementations, x, options)
    try:
        return node.forward(x, **options)
    except ValueError as e:  # as ``Op.apply`` reports it
        raise translate_array_error(e, (x,)) from None


# A structseq result (``return_types``) of two tensors, without the namedtuple's Python-level ``__new__``.
new_pair = tuple.__new__
