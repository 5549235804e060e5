"""Tensor hooks: ``Tensor.register_hook`` and ``retain_grad``.

A leaf keeps its hooks itself; a non-leaf's hooks sit on the node that produced it, keyed by the
tensor's output index, and run on the gradient before that node's backward sees it.
"""

import weakref

from ..utils.hooks import add_hook


def register_tensor_hook(tensor, hook):
    node = tensor.grad_fn
    if node is None:
        if tensor._hooks is None:
            tensor._hooks = {}
        return add_hook(tensor._hooks, hook)
    pre = getattr(node, "_pre_hooks", None)
    if pre is None:
        pre = node._pre_hooks = {}
    return add_hook(pre.setdefault(tensor._output_nr, {}), hook)


def retain_grad(tensor):
    node = tensor.grad_fn
    retained = getattr(node, "_retained", None)
    if retained is None:
        retained = node._retained = {}
    retained[tensor._output_nr] = weakref.ref(tensor)
    tensor._retains_grad = True
