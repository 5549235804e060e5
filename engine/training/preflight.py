"""The pre-flight check: one training batch through the network, forward and backward in training mode, before
any training, to see whether the signal survives the depth of the network.

Every layer module's output is recorded as the forward pass reaches it (the built ``GraphModule``'s children are
named after the document's nodes); the gradient of the loss with respect to each of those outputs comes from
one ``autograd.grad`` call. Per layer the report has the activations' mean and variance, the gradient's variance
and the ratios to the layer before. Warnings compare:

- activations: each layer's variance with the largest one before it (vanishing) and with the input batch's
  (exploding);
- gradients: the gradient's size per sample (the squared norm over one sample's outputs) at each layer with the
  one at the network's output (which the loss sets). The size per sample, unlike the variance per element, does
  not change where a layer only spreads the signal over more positions (pooling, flattening).

The model is left as it was: its train/eval modes, buffers (batch-norm statistics), parameters' gradients and
the engine's random generators.
"""

import math
from contextlib import closing
from dataclasses import dataclass

import numpy as np

from .. import autograd, random
from ..tensor import Tensor
from . import recipe
from .layer_outputs import first_tensor, recording
from .model_state import in_mode, kept_state, model_device
from .trainer import epoch_seed


@dataclass(frozen=True)
class Thresholds:
    """Every limit of the pre-flight check, in one place."""

    activation_fall: float = 1e-5  # a variance below this share of the largest before it: vanishing
    activation_growth: float = 1e3  # a variance above this multiple of the input batch's: exploding
    gradient_fall: float = 1e-5  # a gradient size per sample below this share of the output's: vanishing
    gradient_growth: float = 1e3  # ... above this multiple of the output's: exploding
    gradcheck_tolerance: float = 1e-5  # the largest relative error of a gradient that passes
    gradcheck_eps: float = 1e-6  # the step of the central differences (in float64)
    gradcheck_floor: float = 1e-6  # gradients smaller than this are compared absolutely (relative to it)
    gradcheck_samples: int = 2  # images in the gradient check's batch
    gradcheck_entries_per_layer: int = 12  # at most, sampled at random (all of a smaller layer's)
    gradcheck_total_entries: int = 240  # over the whole network, shared between its layers


THRESHOLDS = Thresholds()

VANISHING, EXPLODING = "vanishing", "exploding"

ADVICE = {
    ("activations", VANISHING): "Usually: initialise the weights for the activation (He/Kaiming for ReLU, "
                                "Xavier/Glorot for tanh or sigmoid) instead of a small scale, or add BatchNorm "
                                "after the layers.",
    ("activations", EXPLODING): "Usually: lower the init scale (He/Kaiming init keeps the variance steady), add "
                                "BatchNorm, and check that the inputs are normalised.",
    ("gradients", VANISHING): "The first layers will barely learn. Usually: ReLU instead of sigmoid or tanh, "
                              "He/Kaiming init, BatchNorm, or residual (skip) connections.",
    ("gradients", EXPLODING): "Training is likely to diverge. Usually: lower the init scale, add BatchNorm, lower "
                              "the learning rate or clip the gradients.",
    ("values", EXPLODING): "Usually: lower the init scale or the learning rate, add BatchNorm, and check the inputs "
                           "for nan or infinite values.",
}


@dataclass(frozen=True)
class LayerSignal:
    """One layer's output on the batch (the first row is the input batch itself)."""

    name: str
    type: str  # the module's class, or "Input"
    shape: tuple  # of one sample's output
    activation_mean: float
    activation_var: float
    activation_ratio: float  # variance over the row before's (None for the first)
    gradient_var: float  # of the loss's gradient with respect to the output (None where no gradient flows)
    gradient_ratio: float  # gradient variance over the row before's (None where either has none)
    gradient_size: float  # squared norm of the gradient over one sample's outputs, averaged over the batch (or None)
    activation_flag: str = None  # VANISHING, EXPLODING or None
    gradient_flag: str = None


@dataclass(frozen=True)
class SignalWarning:
    subject: str  # "activations", "gradients" or "values"
    kind: str  # VANISHING or EXPLODING
    layers: tuple  # the names of the layers that cross the threshold, in forward order
    message: str  # what was measured, in plain words
    advice: str  # what people usually do about it

    def text(self):
        return f"{self.message} {self.advice}"


@dataclass(frozen=True)
class SignalReport:
    layers: tuple  # LayerSignal, in forward order, the input batch first
    warnings: tuple  # SignalWarning
    loss: float
    batch_size: int

    @property
    def healthy(self):
        return not self.warnings


@dataclass(frozen=True)
class Batch:
    images: Tensor
    labels: Tensor


def first_batch(network, data=None, data_dir=None, download=False):
    """The first batch a run of ``network`` trains on: the recipe's training loader (its batch size, shuffling and
    augmentation) after seeding as the trainer's first epoch does. ``data``: ``DataSplits`` already loaded for
    ``network``, else ``load_data`` loads them. The engine's random generators are left as they were."""
    data = data or recipe.load_data(network, data_dir, download)
    with random.fork_rng():
        random.manual_seed(epoch_seed(network.settings["seed"], 0))
        with closing(iter(recipe.make_loader(network, data.train, True))) as batches:
            images, labels = next(batches, (None, None))
    if images is None:
        raise ValueError("the training data has no batches")
    return Batch(images, labels)


def initial_model(network):
    """The module a run of ``network`` starts from (``recipe.initial_model``); the engine's random generators are
    left as they were."""
    with random.fork_rng():
        return recipe.initial_model(network)


def _host(tensor):
    return tensor.detach().cpu().numpy().astype(np.float64)


def _ratio(value, before):
    if value is None or before is None or not before > 0:
        return None
    return value / before


def measure(network, model, batch):
    """The rows of the report (without flags) and the loss: one forward and backward pass in training mode."""
    device = model_device(model)
    images, labels = batch.images.to(device), batch.labels.to(device)
    loss_fn = network.build_loss()
    with kept_state(model), random.fork_rng(), in_mode(model, True):
        with recording(dict(model.named_children())) as calls:
            loss = loss_fn(model(images), labels)
        records = [(name, module, first_tensor(output)) for name, module, output in calls]
        records = [(name, module, o) for name, module, o in records if o is not None and o.is_floating_point()]
        flowing = [o for _, _, o in records if o.requires_grad]
        grads = autograd.grad(loss, flowing, allow_unused=True) if flowing and loss.requires_grad else ()
    by_output = {id(o): g for o, g in zip(flowing, grads)}
    n = images.shape[0]
    rows = [(network.input_node().name, "Input", images, None)]
    rows += [(name, type(module).__name__, o, by_output.get(id(o))) for name, module, o in records]
    layers, before = [], None
    for name, kind, output, grad in rows:
        values = _host(output)
        gradient = None if grad is None else _host(grad)
        act_var = float(values.var())
        grad_var = None if gradient is None else float(gradient.var())
        layer = LayerSignal(
            name, kind, tuple(output.shape[1:]), float(values.mean()), act_var,
            None if before is None else _ratio(act_var, before.activation_var), grad_var,
            None if before is None else _ratio(grad_var, before.gradient_var),
            None if gradient is None else float(np.square(gradient).sum() / n))
        layers.append(layer)
        before = layer
    return layers, float(loss.item()), n


def _flags(layers, thresholds):
    """``(activation flags, gradient flags)``: per row VANISHING, EXPLODING or None."""
    act, grad = [None] * len(layers), [None] * len(layers)
    reference = layers[0].activation_var
    peak = reference
    for k, layer in enumerate(layers[1:], 1):
        v = layer.activation_var
        if not math.isfinite(v) or v > thresholds.activation_growth * reference:
            act[k] = EXPLODING
        elif v < thresholds.activation_fall * peak:
            act[k] = VANISHING
        if math.isfinite(v):
            peak = max(peak, v)
    sized = [k for k, layer in enumerate(layers) if layer.gradient_size is not None]
    if sized:
        output = layers[sized[-1]].gradient_size
        for k in sized:
            size = layers[k].gradient_size
            if not math.isfinite(size) or size > thresholds.gradient_growth * output:
                grad[k] = EXPLODING
            elif size < thresholds.gradient_fall * output:
                grad[k] = VANISHING
    return act, grad


def _scale(factor):
    """``1,000×`` / ``3.2e+08×``."""
    return f"{factor:,.0f}×" if factor < 1e6 else f"{factor:.1e}×"


def _layer_list(names):
    shown = ", ".join(f"'{n}'" for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _warnings(layers, act, grad, loss):
    warnings = []
    broken = [layer.name for layer in layers if not math.isfinite(layer.activation_var)
              or (layer.gradient_size is not None and not math.isfinite(layer.gradient_size))]
    if broken or not math.isfinite(loss):
        where = f"from layer '{broken[0]}' on" if broken else "in the loss"
        warnings.append(SignalWarning("values", EXPLODING, tuple(broken),
                                      f"The values overflow to nan or infinity {where} on the first batch.",
                                      ADVICE[("values", EXPLODING)]))
    input_var = layers[0].activation_var
    for kind in (VANISHING, EXPLODING):
        names = [layer.name for layer, flag in zip(layers, act) if flag == kind]
        finite = [layer for layer, flag in zip(layers, act) if flag == kind and math.isfinite(layer.activation_var)]
        if finite:
            first = finite[0]
            if kind == VANISHING:
                k = layers.index(first)
                peak = max(layers[:k], key=lambda layer: layer.activation_var)
                message = (f"Activations vanish: the variance falls from {peak.activation_var:.3g} at '{peak.name}' "
                           f"to {first.activation_var:.3g} at '{first.name}' "
                           f"({_scale(peak.activation_var / max(first.activation_var, 1e-300))} smaller); "
                           f"layers affected: {_layer_list(names)}.")
            else:
                message = (f"Activations explode: the variance grows from {input_var:.3g} in the input batch to "
                           f"{first.activation_var:.3g} at '{first.name}' "
                           f"({_scale(first.activation_var / max(input_var, 1e-300))} larger); "
                           f"layers affected: {_layer_list(names)}.")
            warnings.append(SignalWarning("activations", kind, tuple(names), message, ADVICE[("activations", kind)]))
    sized = [layer for layer in layers if layer.gradient_size is not None]
    for kind in (VANISHING, EXPLODING):
        flagged = [layer for layer, flag in zip(layers, grad) if flag == kind]
        finite = [layer for layer in flagged if math.isfinite(layer.gradient_size)]
        if finite:
            output, first = sized[-1], finite[0]
            factor = first.gradient_size / max(output.gradient_size, 1e-300)
            factor = factor if kind == EXPLODING else 1 / max(factor, 1e-300)
            word = "weaker" if kind == VANISHING else "stronger"
            message = (f"Gradients {kind.replace('ing', '')}: the gradient reaching '{first.name}' is "
                       f"{_scale(factor)} {word} than at the output '{output.name}' (in squared norm per sample); "
                       f"layers affected: {_layer_list([layer.name for layer in flagged])}.")
            warnings.append(SignalWarning("gradients", kind, tuple(layer.name for layer in flagged), message,
                                          ADVICE[("gradients", kind)]))
    return warnings


def check_signal(network, model=None, batch=None, data=None, data_dir=None, thresholds=THRESHOLDS):
    """The pre-flight check of ``network``: its ``model`` (default: the one a run starts from) on ``batch``
    (default: ``first_batch``, from ``data`` or ``data_dir``). Returns a ``SignalReport``."""
    model = model if model is not None else initial_model(network)
    batch = batch if batch is not None else first_batch(network, data, data_dir)
    layers, loss, n = measure(network, model, batch)
    act, grad = _flags(layers, thresholds)
    flagged = tuple(LayerSignal(**{**layer.__dict__, "activation_flag": a, "gradient_flag": g})
                    for layer, a, g in zip(layers, act, grad))
    return SignalReport(flagged, tuple(_warnings(flagged, act, grad, loss)), loss, n)
