"""Aliases that mark where a nested computation's graph meets the tensors it was given.

``torch.func`` transforms and ``checkpoint`` take gradients with respect to their own inputs in the middle of
a larger graph. ``autograd.grad`` runs only the nodes that lead to its inputs, but it still walks everything
reachable from its outputs to find them, so an input joined to the graph it came from would make every inner
backward walk the whole outer graph. Each input is instead an alias
behind a ``Boundary`` node, whose edge to the original is cut while the inner backward runs (``cut``) and is
there otherwise, so the inner results stay differentiable with respect to the original.
"""

import contextlib

from ..tensor import make_tensor
from .graph import Alias, edge_to


class Boundary(Alias):
    """The alias at a nested computation's input, whose edge ``cut`` removes for the inner backward."""


def boundary_alias(t):
    """A tensor sharing ``t``'s data whose gradient flows to ``t`` through a ``Boundary`` (``t`` requires
    grad)."""
    alias = make_tensor(t._data, t._device)
    alias._requires_grad = True
    node = alias.grad_fn = Boundary()
    node._edges = [edge_to(t)]
    return alias


@contextlib.contextmanager
def cut(aliases):
    """Within the block, gradients stop at the ``Boundary`` of each of ``aliases`` (others are left alone)."""
    nodes = [a.grad_fn for a in aliases if isinstance(a.grad_fn, Boundary)]
    edges = [n._edges for n in nodes]
    for n in nodes:
        n._edges = [None]
    try:
        yield
    finally:
        for n, e in zip(nodes, edges):
            n._edges = e
