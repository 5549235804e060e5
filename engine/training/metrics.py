"""Classification metrics on arrays or tensors: accuracy, top-k accuracy, confusion matrix, per-class
accuracy."""

import numpy as np

from ..tensor import Tensor


def _host(x):
    if isinstance(x, Tensor):
        return x.detach()._host()
    return np.asarray(x)


def accuracy(outputs, targets):
    """The fraction of rows of ``outputs`` (logits or probabilities) whose argmax equals the target."""
    out, tgt = _host(outputs), _host(targets)
    if len(tgt) == 0:
        return float("nan")
    return float((out.argmax(axis=1) == tgt).mean())


def topk_accuracy(outputs, targets, k=5):
    """The fraction of rows whose target is among the ``k`` highest scores."""
    out, tgt = _host(outputs), _host(targets)
    if len(tgt) == 0:
        return float("nan")
    k = min(k, out.shape[1])
    top = np.argpartition(-out, k - 1, axis=1)[:, :k]
    return float((top == tgt[:, None]).any(axis=1).mean())


def confusion_matrix(predictions, targets, num_classes):
    """``cm[i, j]`` counts samples of true class ``i`` predicted as class ``j``."""
    pred, tgt = _host(predictions).astype(np.int64).ravel(), _host(targets).astype(np.int64).ravel()
    if pred.shape != tgt.shape:
        raise ValueError(f"predictions and targets differ in length: {pred.shape[0]} and {tgt.shape[0]}")
    for name, values in (("targets", tgt), ("predictions", pred)):
        bad = (values < 0) | (values >= num_classes)
        if bad.any():
            raise ValueError(f"{name} must lie in [0, {num_classes}); found {int(values[bad][0])}")
    counts = np.bincount(tgt * num_classes + pred, minlength=num_classes * num_classes)
    return counts.reshape(num_classes, num_classes)


def per_class_accuracy(cm):
    """Recall of each class from a confusion matrix (NaN for a class with no samples)."""
    cm = np.asarray(cm)
    totals = cm.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, np.diag(cm) / np.maximum(totals, 1), np.nan)


def format_per_class(cm, classes):
    """The seed tutorial's report: ``Accuracy of plane : 69 %`` per class."""
    acc = per_class_accuracy(cm)
    width = max(5, *(len(c) for c in classes))
    return "\n".join(f"Accuracy of {name:>{width}} : {'n/a' if np.isnan(a) else f'{100 * a:2.0f} %'}"
                     for name, a in zip(classes, acc))
