"""Which pixels a prediction rests on: Grad-CAM (Selvaraju et al., 2017) at a layer with an image-shaped output,
and vanilla gradient saliency, as per-image maps in [0, 1] the size of the input; ``overlay`` paints a map over
the image for people to look at.

Both run the model in eval mode and differentiate with ``autograd.grad``, so the parameters' ``.grad`` and the
modules' train/eval modes are as they were before the call, and no hook stays behind.
"""

from dataclasses import dataclass

import numpy as np

from ..autograd import enable_grad, grad, no_grad
from ..creation import tensor as make_tensor
from ..nn.functional import interpolate, one_hot
from ..tensor import Tensor
from .layer_outputs import named_layers, recording
from .model_state import in_mode, model_device


class AttributionError(ValueError):
    """A layer or class that cannot be explained: the message names it and what would do."""


@dataclass(frozen=True)
class Attribution:
    """``maps``: float32 (N, H, W) in [0, 1], one per input image; ``targets``: the class each map explains."""

    maps: np.ndarray
    targets: tuple


def _on_model_device(model, images):
    if not isinstance(images, Tensor) or images.dim() != 4:
        raise AttributionError(f"expected images as an (N, C, H, W) tensor, got {_describe(images)}")
    device = model_device(model)
    return images.detach() if device is None else images.detach().to(device)


def _describe(value):
    return f"shape {tuple(value.shape)}" if isinstance(value, Tensor) else type(value).__name__


def image_layers(model, images):
    """Names of the layers whose output is image-shaped, (N, K, h, w), for ``images``, in the order they run:
    the layers ``grad_cam`` can explain."""
    images = _on_model_device(model, images)
    with in_mode(model, False), no_grad(), recording(named_layers(model)) as calls:
        model(images)
    first = {}
    for name, _module, output in calls:
        first.setdefault(name, output)
    return [name for name, output in first.items() if _is_image(output)]


def _is_image(value):
    return isinstance(value, Tensor) and value.dim() == 4


def _targets(scores, target):
    """The class each image is explained for: its predicted class, or ``target`` (one int, or one per image)."""
    count, classes = scores.shape
    if target is None:
        return tuple(int(t) for t in scores.detach().argmax(1).cpu().numpy())
    chosen = [target] * count if isinstance(target, (int, np.integer)) else list(target)
    if len(chosen) != count:
        raise AttributionError(f"target: expected one class per image ({count}), got {len(chosen)}")
    for t in chosen:
        if not isinstance(t, (int, np.integer)) or isinstance(t, bool) or not 0 <= t < classes:
            raise AttributionError(f"target {t!r} is not a class of the model's {classes} outputs "
                                   f"(0 to {classes - 1})")
    return tuple(int(t) for t in chosen)


def _target_score(scores, target):
    """The sum over images of each one's target score (images do not mix in eval mode), and the targets."""
    if scores.dim() != 2:
        raise AttributionError(f"expected the model to give one score per class, (N, classes), "
                               f"got {_describe(scores)}")
    targets = _targets(scores, target)
    chosen = make_tensor(list(targets), device=scores.device)
    return (scores * one_hot(chosen, scores.shape[1]).to(scores.dtype)).sum(), targets


def normalise(maps):
    """Each (H, W) map of ``maps`` scaled to [0, 1] by its own minimum and maximum; a constant map becomes 0."""
    maps = np.asarray(maps, dtype=np.float32)
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.divide(maps - low, span, out=np.zeros_like(maps), where=span > 0)


def _single_image_output(layer, outputs, model, images):
    """The one (N, K, h, w) output ``layer`` gave in a forward pass, else ``AttributionError``."""
    if len(outputs) == 1 and _is_image(outputs[0]):
        return outputs[0]
    if len(outputs) == 1:
        found = f"an output of {_describe(outputs[0])}"
    else:
        found = f"{len(outputs)} outputs (it ran {len(outputs)} times)" if outputs else "no output (it did not run)"
    raise AttributionError(f"layer {layer!r} has {found}, not one image-shaped (N, K, h, w) output; "
                           f"Grad-CAM works at: {', '.join(image_layers(model, images)) or 'none'}")


def grad_cam(model, images, layer, target=None):
    """Grad-CAM of ``images`` (N, C, H, W) at the module named ``layer`` (a node name of a built network):
    ReLU of the layer's channels weighted by the spatial mean of the target score's gradient, upsampled
    bilinearly to H×W and normalised per image. ``target``: None for each image's predicted class, an int, or
    one int per image. ``AttributionError`` for an unknown layer, one whose output is not (N, K, h, w), or a
    target that is not a class."""
    images = _on_model_device(model, images)
    layers = named_layers(model)
    if layer not in layers:
        raise AttributionError(f"no layer named {layer!r}; layers with image-shaped outputs: "
                               f"{', '.join(image_layers(model, images)) or 'none'}")
    with in_mode(model, False), enable_grad(), recording({layer: layers[layer]}) as calls:
        scores = model(images.requires_grad_(True))
        activation = _single_image_output(layer, [output for _, _, output in calls], model, images)
        score, targets = _target_score(scores, target)
        (gradient,) = grad(score, [activation])
    with no_grad():
        weights = gradient.mean(dim=(2, 3), keepdim=True)
        cam = (weights * activation.detach()).sum(1, keepdim=True).relu()
        cam = interpolate(cam, size=tuple(images.shape[2:]), mode="bilinear", align_corners=False)
    return Attribution(normalise(cam[:, 0].cpu().numpy()), targets)


def saliency(model, images, target=None):
    """Vanilla gradient saliency of ``images`` (N, C, H, W): the largest absolute gradient of the target score
    over the channels of each pixel, normalised per image. ``target`` as for ``grad_cam``."""
    images = _on_model_device(model, images)
    with in_mode(model, False), enable_grad():
        images.requires_grad_(True)
        score, targets = _target_score(model(images), target)
        (gradient,) = grad(score, [images])
    return Attribution(normalise(gradient.abs().amax(1).cpu().numpy()), targets)


def _jet(values):
    """A jet-like colour map of values in [0, 1]: (..., 3) floats in [0, 1], blue through green to red."""
    v = np.clip(values, 0.0, 1.0)[..., None]
    centres = np.array([3.0, 2.0, 1.0], dtype=np.float32)  # red, green, blue peak at 3/4, 1/2, 1/4
    return np.clip(1.5 - np.abs(4.0 * v - centres), 0.0, 1.0)


OVERLAY_ALPHA = 0.5


def overlay(image, heatmap, alpha=OVERLAY_ALPHA):
    """``image`` (H, W, 3), (H, W, 1) or (H, W) uint8 with ``heatmap`` (H, W) in [0, 1] painted over it in a
    jet colour map, ``alpha`` parts colour: an (H, W, 3) uint8 picture."""
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    heatmap = np.asarray(heatmap, dtype=np.float32)
    if image.ndim != 3 or image.shape[2] not in (1, 3) or heatmap.shape != image.shape[:2]:
        raise ValueError(f"overlay: expected an (H, W, 3) or (H, W) image and an (H, W) map of the same size, "
                         f"got {image.shape} and {heatmap.shape}")
    base = np.broadcast_to(image, (*image.shape[:2], 3)).astype(np.float32)
    blended = (1 - alpha) * base + alpha * 255.0 * _jet(heatmap)
    return np.clip(np.rint(blended), 0, 255).astype(np.uint8)
