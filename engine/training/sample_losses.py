"""Per-sample losses of a classifier's outputs, and the orders of test images that error analysis shows: the
images of one confusion-matrix cell, and the highest losses overall, each highest loss first.

The per-sample loss is the run's own loss function with ``reduction='none'``, averaged over any dimensions
after the batch one. Its mean is the loss the run reports only without class weights and ignored targets: a
class weight scales each sample's loss (the run's loss divides their sum by the sum of the weights, not by the
count), and a target equal to ``ignore_index`` costs 0 here (the run's loss leaves it out). For
``CrossEntropyLoss`` with label smoothing ε that is ``(1 - ε) * -log p[target] + ε * mean_k(-log p[k])``: a
sample predicted with certainty still costs a little, and the ranking barely differs from plain cross-entropy's.
A loss function without a ``reduction`` (a plain function) gives the plain cross-entropy
``-log softmax(outputs)[target]``."""

import copy

import numpy as np

from ..ops.shape import stack


def unreduced(loss_fn):
    """A copy of the loss module ``loss_fn`` that returns one value per element (``reduction='none'``), or None
    when ``loss_fn`` has no ``reduction`` to change."""
    if getattr(loss_fn, "reduction", None) is None:
        return None
    per_element = copy.copy(loss_fn)  # shares the weights and options; only its own reduction changes
    per_element.reduction = "none"
    return per_element


def per_sample_loss(per_element, outputs, targets):
    """One loss per sample (a float32 NumPy array) of ``outputs`` (N, C, ...) against ``targets``, from the
    ``unreduced`` loss ``per_element`` (None: the plain cross-entropy)."""
    if per_element is None:
        values = -outputs.log_softmax(1).gather(1, targets.long().unsqueeze(1)).squeeze(1)
    else:
        values = per_element(outputs, targets)
    values = values.cpu().numpy().astype(np.float32, copy=False)
    return values.reshape(len(values), -1).mean(1) if values.ndim > 1 else values


def by_loss(losses, indices):
    """``indices`` ordered by their ``losses``, highest first (ties in index order)."""
    indices = np.asarray(indices, np.int64)
    return indices[np.argsort(-losses[indices], kind="stable")]


def cell_samples(result, true, predicted):
    """Indices of the samples of class ``true`` predicted as ``predicted`` in the ``EvalResult`` ``result``,
    highest loss first: in an off-diagonal cell, the most confident mistakes first."""
    chosen = np.flatnonzero((result.targets == true) & (result.predictions == predicted))
    return by_loss(result.losses, chosen)


def top_losses(result, count):
    """Indices of the ``count`` samples of ``result`` with the highest losses, highest first."""
    return by_loss(result.losses, np.arange(len(result.losses)))[:count]


def chosen_probabilities(outputs, targets, predicted):
    """A float32 (N, 2) NumPy array: the softmax probability of each sample's target and of its ``predicted``
    class, from (N, C) ``outputs``. Computed on the outputs' device as ``exp(output - logsumexp(outputs))`` at
    the two classes, so that no N×C softmax is made and only 2N values are copied to the host."""
    columns = stack([targets.long(), predicted.long()], 1)
    chosen = outputs.gather(1, columns) - outputs.logsumexp(1, keepdim=True)
    return chosen.exp().cpu().numpy().astype(np.float32, copy=False)
