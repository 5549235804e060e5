"""Where a training step's values first went non-finite: the step's forward and backward replayed under anomaly
mode (``engine.autograd.anomaly``), which names the first op, in forward-then-backward order, whose result is not
finite. The replay leaves everything as it found it: the RNG, the buffers (BatchNorm statistics), every
parameter and its ``.grad``."""

import math

import numpy as np

from .. import random as engine_random
from ..autograd.anomaly import set_detect_anomaly
from ..autograd.grad_mode import no_grad


def gradients_finite(parameters):
    """Whether every gradient of ``parameters`` is finite: one sum per gradient (a sum is not finite when any
    value is not), with a value-by-value look only when a sum is, since finite values may add up to infinity."""
    grads = [p.grad for p in parameters if p.grad is not None]
    with np.errstate(all="ignore"):
        if math.isfinite(sum(float(g._data.sum()) for g in grads)):
            return True
    return all(bool(g.isfinite().all()) for g in grads)


def replay_origin(model, loss_fn, inputs, targets, rng_state=None):
    """The ``NonFiniteOrigin`` of the training step of ``model`` on ``inputs`` and ``targets`` with ``loss_fn``,
    replayed from ``rng_state`` (a generator state; the current one when None), or None when every value the
    replay computed is finite."""
    names = {**dict(model.named_modules()), **dict(model.named_parameters())}
    parameters = list(model.parameters())
    grads = [p.grad for p in parameters]
    buffers = [(b, b.detach().clone()) for b in model.buffers()]
    generator = engine_random.default_generator.rng().bit_generator
    state = generator.state
    try:
        for p in parameters:
            p.grad = None
        if rng_state is not None:
            generator.state = rng_state
        with set_detect_anomaly(True, check_nan=False, names=names) as anomaly:
            loss = loss_fn(model(inputs), targets)
            if anomaly.origin is None and loss.requires_grad:
                loss.backward()
            return anomaly.origin
    finally:
        for p, g in zip(parameters, grads):
            p.grad = g
        with no_grad():
            for buffer, saved in buffers:
                buffer.copy_(saved)
        generator.state = state
