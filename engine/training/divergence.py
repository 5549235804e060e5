"""The gradients of a training step: clipped as the settings ask, checked for non-finite values, and where a step's
values first went non-finite: the step's forward and backward replayed under anomaly mode
(``engine.autograd.anomaly``), which names the first op, in forward-then-backward order, whose result is not
finite. The replay leaves everything as it found it: the RNG, the buffers (BatchNorm statistics), every parameter
and its ``.grad``."""

import math
from itertools import groupby
from operator import attrgetter

import numpy as np

from .. import random as engine_random
from ..autograd.anomaly import set_detect_anomaly
from ..backend import device_context
from ..nn.utils.clip_grad import _grads, clip_grads_with_norm_, total_norm
from .model_state import kept_state


def clip_gradients(parameters, max_norm):
    """Scale the gradients of ``parameters`` together to a total norm of at most ``max_norm`` (the settings'
    ``clip_grad_norm``; 0: no clipping), as a training step does before the update. Returns the total norm
    before clipping as a float, or None when not clipping. Finite gradients too large for their dtype's norm are
    measured again in double precision and clipped; gradients that are not finite are left as they are: the step
    fails on them, and its report reads them."""
    if not max_norm:
        return None
    parameters = list(parameters)
    grads = _grads(parameters)
    norm = total_norm(grads)
    if not math.isfinite(norm) and gradients_finite(parameters):  # the float32 norms overflowed
        norm = total_norm([g.double() for g in grads])
    if math.isfinite(norm):
        clip_grads_with_norm_(parameters, max_norm, norm)
    return norm


def gradients_finite(parameters, total_norm=None):
    """Whether every gradient of ``parameters`` is finite. A finite ``total_norm`` (their norm, when clipping has
    computed it) settles it at no cost. Otherwise one sum per gradient, added up on the gradients' device and read
    once (one device sync, not one per parameter): a sum is not finite when any value is not; only then are the
    values looked at one by one, since finite values may add up to infinity."""
    grads = _grads(parameters)
    if total_norm is not None and math.isfinite(total_norm):
        return True
    with np.errstate(all="ignore"):
        if math.isfinite(_sum_of_sums(grads)):
            return True
    return all(bool(g.isfinite().all()) for g in grads)


def _sum_of_sums(tensors):
    """The sum of all values of ``tensors`` as a float: their sums added on their device and read once per run of
    tensors on one device."""
    total = 0.0
    for device, run in groupby(tensors, attrgetter("device")):
        with device_context(device):
            total += float(sum(t._data.sum() for t in run))
    return total


def replay_origin(model, loss_fn, inputs, targets, rng_state=None):
    """The ``NonFiniteOrigin`` of the training step of ``model`` on ``inputs`` and ``targets`` with ``loss_fn``,
    replayed from ``rng_state`` (a CPU generator state; the current one when None), or None when every value the
    replay computed is finite."""
    names = {**dict(model.named_modules()), **dict(model.named_parameters())}
    with kept_state(model), engine_random.fork_rng():
        for p in model.parameters():
            p.grad = None
        if rng_state is not None:
            engine_random.default_generator.rng().bit_generator.state = rng_state
        with set_detect_anomaly(True, check_nan=False, names=names) as anomaly:
            loss = loss_fn(model(inputs), targets)
            if anomaly.origin is None and loss.requires_grad:
                loss.backward()
            return anomaly.origin
