"""Each validation sample's results across epochs, to find the images a network forgets or never learns
(Toneva et al. 2019, "An Empirical Study of Example Forgetting during Deep Neural Network Learning").

``SampleTracker`` is a ``Trainer`` callback: at every epoch's validation (``on_validation``) it keeps each
sample's loss, prediction and the probability of that prediction. A sample is known by its position in the
validation loader, so the loader must not shuffle (the recipe's evaluation loaders never do); a pass whose
targets differ from the first one's is refused. From the history:

- a *forgetting event* is a sample going from right at one validation to wrong at the next;
- ``forgotten``: right at some epoch, wrong at a later one (one forgetting event or more);
- ``never learned``: wrong at every epoch;
- ``learned``: right from some epoch on.

A never-learned sample that the network keeps putting, confidently, in one other class is the likeliest to be
mislabelled: its ``mislabel_score`` is the mean over epochs of the probability given to that class (the
``suspect_class``, the one with the most such probability), 1 when every epoch predicted it with certainty.
"""

import csv
import io
from dataclasses import dataclass

import numpy as np

from ..utils.files import atomic_write_text
from .callbacks import Callback

LEARNED, FORGOTTEN, NEVER_LEARNED = "learned", "forgotten", "never learned"
SAMPLES_FILE = "samples.csv"  # the summary's name in a run folder
CSV_FIELDS = ("sample", "target", "prediction", "loss", "status", "forgetting_events", "first_learned_epoch",
              "suspect_class", "mislabel_score")


@dataclass
class SampleHistory:
    """Per-sample validation results, a row per validation (epoch): ``losses``, ``predictions`` and
    ``confidence`` (the probability of the prediction) are (validations, samples); ``epochs`` names each row's
    0-based epoch."""

    targets: np.ndarray
    losses: np.ndarray
    predictions: np.ndarray
    confidence: np.ndarray
    epochs: np.ndarray

    def __len__(self):
        return len(self.targets)

    @property
    def correct(self):
        return self.predictions == self.targets

    def forgetting_events(self):
        """How many times each sample went from right to wrong between consecutive validations."""
        correct = self.correct
        return (correct[:-1] & ~correct[1:]).sum(0)

    def first_learned(self):
        """The 0-based epoch each sample was first right at, -1 for those never right."""
        correct = self.correct
        return np.where(correct.any(0), self.epochs[np.argmax(correct, 0)], -1)

    def status(self):
        """``LEARNED``, ``FORGOTTEN`` or ``NEVER_LEARNED`` for each sample (an array of str)."""
        status = np.full(len(self), LEARNED, dtype=f"<U{len(NEVER_LEARNED)}")
        status[self.forgetting_events() > 0] = FORGOTTEN
        status[~self.correct.any(0)] = NEVER_LEARNED
        return status

    def suspects(self):
        """``(suspect_class, mislabel_score)`` per sample: the wrong class given the most probability summed over
        the validations, and that sum's mean over them (0 for a sample never predicted wrong)."""
        classes = int(max(self.predictions.max(initial=-1), self.targets.max(initial=-1)) + 1)
        rows = np.arange(len(self))
        mass = np.zeros((len(self), max(classes, 1)))
        for predicted, confidence in zip(self.predictions, self.confidence, strict=True):
            mass[rows, predicted] += confidence
        mass[rows, self.targets] = 0.0
        suspect = mass.argmax(1)
        return suspect, mass[rows, suspect] / max(len(self.epochs), 1)

    def forgotten(self):
        """Indices of the forgotten samples: most forgetting events first, then highest last loss."""
        events = self.forgetting_events()
        chosen = np.flatnonzero(events > 0)
        return chosen[np.lexsort((-self.losses[-1, chosen], -events[chosen]))]

    def likely_mislabelled(self):
        """Indices of the never-learned samples, likeliest mislabelled first (highest ``mislabel_score``, then
        highest mean loss)."""
        chosen = np.flatnonzero(~self.correct.any(0))
        _, score = self.suspects()
        return chosen[np.lexsort((-self.losses[:, chosen].mean(0), -score[chosen]))]

    def to_csv(self, classes=()):
        """A line per sample (``CSV_FIELDS``): the last validation's prediction and loss, the status, the
        forgetting events, the 1-based epoch first learned (empty: never), the suspect class and its score;
        classes by name where ``classes`` names them."""
        def name(k):
            return classes[k] if k < len(classes) else str(k)

        suspect, score = self.suspects()
        first = self.first_learned()
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_FIELDS)
        for k, (target, status, events) in enumerate(zip(self.targets, self.status(), self.forgetting_events(),
                                                         strict=True)):
            wrong = score[k] > 0
            writer.writerow((k, name(target), name(self.predictions[-1, k]), f"{self.losses[-1, k]:.5g}", status,
                             events, first[k] + 1 if first[k] >= 0 else "", name(suspect[k]) if wrong else "",
                             f"{score[k]:.4f}"))
        return out.getvalue()


class SampleTracker(Callback):
    """Keeps each validation sample's results at every epoch (``history()``); with a ``path``, rewrites the
    summary there (``SampleHistory.to_csv``, atomically) after each validation."""

    def __init__(self, path=None, classes=()):
        self.path = path
        self.classes = tuple(classes)
        self.targets = None
        self._rows = []  # (epoch, losses, predictions, confidence) per validation

    def on_validation(self, trainer, result):
        self.record(result, trainer.epoch)

    def record(self, result, epoch):
        """Add the ``EvalResult`` of a validation at 0-based ``epoch``; ``ValueError`` when its samples are not
        those of the earlier validations, in the same order."""
        if self.targets is None:
            self.targets = np.asarray(result.targets).copy()
        elif not np.array_equal(self.targets, result.targets):
            raise ValueError(f"the validation at epoch {epoch + 1} has other targets, or another order, than the "
                             "first one: per-sample tracking needs the same validation samples, unshuffled")
        self._rows.append((epoch, result.losses, result.predictions, result.predicted_probability))
        if self.path is not None:
            atomic_write_text(self.path, self.history().to_csv(self.classes))

    def history(self):
        """The ``SampleHistory`` so far, or None before the first validation."""
        if not self._rows:
            return None
        epochs, losses, predictions, confidence = zip(*self._rows, strict=True)
        return SampleHistory(self.targets, np.stack(losses), np.stack(predictions), np.stack(confidence),
                             np.asarray(epochs))
