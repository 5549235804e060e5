"""Helpers of the wrappers that compute an op's result without its node where ``op.untracked`` allows (they take
the implementation with ``backend.choose`` as ``Op.apply`` does): the node's forward run bare, a structseq made
cheaply."""

from ..backend import choose
from .op import translate_array_error

_new = object.__new__
NO_OPTIONS = {}  # the options of a call that has none, for backend.choose (never changed)


def run(op, x, options):
    """The output arrays of node ``op``'s ``forward`` on array ``x`` and the dict ``options`` where ``untracked``
    holds, the node bare (for an op whose forward is more than one implementation call)."""
    node = _new(op)
    if op.implementations:
        node._impl = choose(op.implementations, (x,), options)
    try:
        return node.forward(x, **options)
    except ValueError as e:  # as ``Op.apply`` reports it
        raise translate_array_error(e, (x,)) from None


# A structseq result (``return_types``) of two tensors, without the namedtuple's Python-level ``__new__``.
new_pair = tuple.__new__
