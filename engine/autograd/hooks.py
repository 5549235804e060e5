"""Hooks on the backward graph: ``RemovableHandle``, ``Tensor.register_hook``,
``Tensor.register_post_accumulate_grad_hook`` and ``Tensor.retain_grad``.

A leaf keeps its hooks itself; a non-leaf's hooks sit on the node that produced it, keyed by the
tensor's output index, and run on the gradient before that node's backward sees it. The handle lives
here, at the bottom, so that every layer above (nodes, modules, optimizers) returns the same kind.
"""

import itertools
import weakref

_ids = itertools.count()


class RemovableHandle:
    """Removes the hook it was returned for from its dictionary; usable as a context manager."""

    __slots__ = ("hooks_dict", "id")

    def __init__(self, hooks_dict):
        self.hooks_dict = hooks_dict
        self.id = next(_ids)

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.remove()


def add_hook(hooks_dict, hook):
    handle = RemovableHandle(hooks_dict)
    hooks_dict[handle.id] = hook
    return handle


def register_hook(self, hook):
    """``Tensor.register_hook``: call ``hook(grad)`` when this tensor's gradient is computed; a returned
    tensor replaces it."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    node = self.grad_fn
    if node is None:
        if self._hooks is None:
            self._hooks = {}
        return add_hook(self._hooks, hook)
    pre = getattr(node, "_pre_hooks", None)
    if pre is None:
        pre = node._pre_hooks = {}
    return add_hook(pre.setdefault(self._output_nr, {}), hook)


def register_post_accumulate_grad_hook(self, hook):
    """``Tensor.register_post_accumulate_grad_hook``: call ``hook(tensor)`` after a backward pass has added
    into this leaf's ``.grad`` (not for ``autograd.grad``, which leaves ``.grad`` alone)."""
    if not self._requires_grad:
        raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
    if self.grad_fn is not None:
        raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
    if self._post_accumulate_hooks is None:
        self._post_accumulate_hooks = {}
    return add_hook(self._post_accumulate_hooks, hook)


def run_post_accumulate_hooks(t):
    for hook in list(t._post_accumulate_hooks.values()):
        hook(t)


def retain_grad(self):
    """``Tensor.retain_grad``: keep a non-leaf's gradient in ``.grad`` after backward."""
    if not self._requires_grad:
        raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
    node = self.grad_fn
    if node is None or self._retains_grad:
        return
    retained = getattr(node, "_retained", None)
    if retained is None:
        retained = node._retained = {}
    retained[self._output_nr] = weakref.ref(self)
    self._retains_grad = True
