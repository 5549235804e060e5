"""What each layer of a model outputs during a forward pass, by forward hooks that are removed afterwards (for the
pre-flight check and for attribution)."""

from contextlib import contextmanager

from ..tensor import Tensor


def named_layers(model):
    """``{name: module}`` of every module below ``model`` (nested ones too), in the model's order."""
    return {name: module for name, module in model.named_modules() if name}


@contextmanager
def recording(modules):
    """``[(name, module, output)]`` of the ``modules`` (``{name: module}``) in the order they are called while the
    block runs, a module called twice twice; the hooks are removed afterwards."""
    calls = []
    handles = [module.register_forward_hook(lambda m, _args, out, name=name: calls.append((name, m, out)))
               for name, module in modules.items()]
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


def first_tensor(output):
    """The tensor a module's call gave (its first one, for a tuple or list), or None."""
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        return next((o for o in output if isinstance(o, Tensor)), None)
    return None
