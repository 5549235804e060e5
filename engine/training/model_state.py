"""A model's state, kept while a tool (the learning-rate finder, the pre-flight check, a replay, an evaluation,
an explanation) works on it and put back afterwards: each module's train/eval mode, the buffers (BatchNorm
statistics), the parameters' ``.grad`` and, for a tool that trains, the weights.

Modes are restored module by module: ``model.train(mode)`` alone would turn a BatchNorm that was frozen in eval
mode inside a training model back to training.
"""

from contextlib import contextmanager


def model_device(model):
    """The device of ``model``'s first parameter (None for a model without parameters)."""
    return next((p.device for p in model.parameters()), None)


@contextmanager
def in_mode(model, training):
    """``model`` and every module in it in training (True) or eval (False) mode while the block runs; each module's
    own mode is put back afterwards."""
    modes = [(module, module.training) for module in model.modules()]
    model.train(training)
    try:
        yield model
    finally:
        for module, mode in modes:
            module.training = mode


@contextmanager
def kept_state(model, weights=False):
    """Put back ``model``'s buffers and its parameters' ``.grad`` on leaving, and with ``weights`` the parameters'
    values too. Values are copied back into their own arrays (an optimizer or a view holding one still sees it),
    and each ``.grad`` is the tensor it was, with the values it had."""
    parameters = list(model.parameters())
    grads = [p.grad for p in parameters]
    saved = [(b, b._data.copy()) for b in model.buffers()]
    saved += [(g, g._data.copy()) for g in grads if g is not None]
    if weights:
        saved += [(p, p._data.copy()) for p in parameters]
    try:
        yield
    finally:
        for tensor, data in saved:
            tensor._data[...] = data
        for p, g in zip(parameters, grads, strict=True):
            p.grad = g
