"""Helpers of the wrappers that compute an op's result without its node where ``op.untracked`` allows: the
implementation ``backend.choose`` would pick, the node's forward run bare, a structseq made cheaply."""

from .op import translate_array_error

_new = object.__new__
_NONE = {}


def first(implementations, x, options=_NONE):
    """The implementation that ``backend.choose`` picks for array ``x`` and the dict ``options`` where ``untracked``
    holds (a dict, not keywords: each packing costs ~0.1 us)."""
    for impl in implementations:
        if impl.applies(x, **options):
            return impl
    raise RuntimeError("no implementation of this op takes the call")


def run(op, x, options):
    """The output arrays of node ``op``'s ``forward`` on array ``x`` and the dict ``options`` where ``untracked``
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
