"""The numerical gradient check of a network, for teaching and for trust in the engine: the gradients autograd
gives for the loss on a tiny batch, compared with central differences ``(L(w + eps) - L(w - eps)) / 2 eps``, entry
by entry, layer by layer.

It runs on a float64 copy of the model on the CPU (built from the document, with the model's weights), in
training mode: batch normalisation uses the batch's statistics, and every evaluation of the loss starts from the
same random state, so dropout draws the same mask each time. All entries of a small layer are checked; of a
larger one, a seeded random sample (the total is bounded so that the check takes seconds). ``engine.autograd.
gradcheck`` compares whole Jacobians, which a network's millions of weights do not afford.
"""

import math
import time
from dataclasses import dataclass

import numpy as np

from .. import autograd, float64, random
from ..autograd.grad_mode import no_grad
from .parameter_layers import parameter_layers
from .preflight import THRESHOLDS

SAMPLE_SEED = 0  # which entries of a large layer are checked
ROUNDING = 4 * np.finfo(np.float64).eps  # relative rounding error of a float64 loss, generously


@dataclass(frozen=True)
class LayerGradientCheck:
    name: str
    type: str  # the module's class
    checked: int  # parameter entries compared
    skipped: int  # entries sampled where the loss is not smooth within the step (not compared)
    total: int  # the layer's trainable parameter entries
    max_error: float  # the largest relative error over the entries compared (nan when none was)
    tolerance: float

    @property
    def passed(self):
        """True, False, or None when no entry could be compared."""
        return None if self.checked == 0 else self.max_error <= self.tolerance


@dataclass(frozen=True)
class GradientCheckReport:
    layers: tuple  # LayerGradientCheck, in the model's order, for the layers with trainable parameters
    samples: int  # images in the batch
    eps: float
    seconds: float

    @property
    def passed(self):
        return not self.failed

    @property
    def failed(self):
        return tuple(layer for layer in self.layers if layer.passed is False)


def float64_copy(network, model):
    """A float64 CPU module of ``network`` holding ``model``'s weights and buffers (``model`` is not touched)."""
    with random.fork_rng():  # building draws initial weights, which are replaced at once
        copy = network.build()
    copy.load_state_dict({key: value.detach().cpu() for key, value in model.state_dict().items()})
    return copy.double()


def sampled_entries(params, budget, rng):
    """``[(parameter, flat indices)]``: every entry when the layer has at most ``budget``, else ``budget`` of them
    drawn at random over all of its parameters' entries."""
    sizes = [p.numel() for p in params]
    total = sum(sizes)
    picked = np.arange(total) if total <= budget else np.sort(rng.choice(total, budget, replace=False))
    starts = np.cumsum([0, *sizes])
    return [(p, picked[(picked >= a) & (picked < b)] - a) for p, a, b in zip(params, starts[:-1], starts[1:])]


def relative_error(a, b, floor):
    """``|a - b| / max(|a|, |b|, floor)``: relative, except for gradients below ``floor``."""
    return abs(a - b) / max(abs(a), abs(b), floor)


class _LossOfEntry:
    """The loss of the float64 copy on the batch, and its central differences in one parameter entry. Every
    evaluation forks the random generators, so that each starts from the same state (dropout draws the same mask
    each time) and leaves them as they were."""

    def __init__(self, copy, loss_fn, images, labels):
        self.copy, self.loss_fn, self.images, self.labels = copy, loss_fn, images, labels

    def __call__(self):
        with random.fork_rng():
            return self.loss_fn(self.copy(self.images), self.labels)

    def slope(self, flat, k, step):
        original = flat[k].item()
        flat[k] = original + step
        plus = self().item()
        flat[k] = original - step
        minus = self().item()
        flat[k] = original
        return (plus - minus) / (2 * step)


def _compare(loss, flat, k, exact, eps, tolerance, floor):
    """The relative error of ``exact`` at entry ``k``, or None where the loss is not smooth within the step (a
    ReLU or max-pool switches there: the differences with half the step disagree)."""
    numeric = loss.slope(flat, k, eps)
    error = relative_error(exact, numeric, floor)
    if error <= tolerance:
        return error
    if relative_error(numeric, loss.slope(flat, k, eps / 2), floor) > tolerance:
        return None
    return error if np.isfinite(error) else np.inf


def check_gradients(network, model, batch, thresholds=THRESHOLDS, stop=None):
    """Compare autograd with central differences for ``model`` (a module of ``network``) on the first
    ``thresholds.gradcheck_samples`` images of ``batch``, layer by layer (the modules that own trainable
    parameters). Returns a ``GradientCheckReport``; ``model`` and the engine's random generators are left as they
    were. ``stop()``: asked before each layer, True ends the check early (the report then has the layers checked
    so far)."""
    started = time.perf_counter()
    copy = float64_copy(network, model).train()
    n = min(thresholds.gradcheck_samples, batch.images.shape[0])
    images, labels = batch.images[:n].cpu().to(float64), batch.labels[:n].cpu()
    layers = parameter_layers(copy)
    modules = dict(copy.named_modules())
    budget = min(thresholds.gradcheck_entries_per_layer,
                 max(1, thresholds.gradcheck_total_entries // max(1, len(layers))))
    rng = np.random.default_rng(SAMPLE_SEED)
    eps, tolerance = thresholds.gradcheck_eps, thresholds.gradcheck_tolerance
    results = []
    loss = _LossOfEntry(copy, network.build_loss(), images, labels)
    params = [p for ps in layers.values() for p in ps]
    value = loss()
    analytic = dict(zip(map(id, params), autograd.grad(value, params)))
    # what float64 rounding of the loss leaves unresolved in a difference with half the step
    floor = max(thresholds.gradcheck_floor, ROUNDING * max(1.0, abs(value.item())) / (eps / 2) / tolerance)
    with no_grad():
        for name, ps in layers.items():
            if stop is not None and stop():
                break
            errors, skipped = [], 0
            for p, indices in sampled_entries(ps, budget, rng):
                flat, exact = p._data.reshape(-1), analytic[id(p)]._data.reshape(-1)
                for k in indices:
                    error = _compare(loss, flat, k, exact[k].item(), eps, tolerance, floor)
                    if error is None:
                        skipped += 1
                    else:
                        errors.append(error)
            results.append(LayerGradientCheck(name, type(modules.get(name, copy)).__name__, len(errors), skipped,
                                              sum(p.numel() for p in ps), max(errors, default=math.nan), tolerance))
    return GradientCheckReport(tuple(results), n, eps, time.perf_counter() - started)
