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
mislabelled. Its ``suspect_class`` is the wrong class it was predicted as with the most confidence summed over the
validations, and its ``mislabel_score`` that sum over the number of validations: the mean over epochs of the
probability of the prediction at the epochs that predicted the suspect class, 0 at the others; 1 when every epoch
predicted it with certainty.

In a run folder the tracker writes the summary (``samples.csv``) and the history's arrays (``samples.npz``), so
that a resumed run continues the history instead of starting it again.
"""

import os
import warnings
from dataclasses import dataclass

import numpy as np

from ..serialization_limits import WeightFileError
from ..serialization_npz import load_npz
from ..utils.files import FileWarning, atomic_write, write_csv
from .callbacks import Callback
from .run_errors import RunFileError

LEARNED, FORGOTTEN, NEVER_LEARNED = "learned", "forgotten", "never learned"
SAMPLES_FILE = "samples.csv"  # the summary's name in a run folder
HISTORY_SUFFIX = ".npz"  # the arrays' file: the summary's name with this suffix (samples.npz)
HISTORY_ARRAYS = ("targets", "losses", "predictions", "confidence", "epochs")  # the SampleHistory fields it holds
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
        """``(suspect_class, mislabel_score)`` per sample: the wrong class predicted with the most confidence summed
        over the validations, and that sum over the number of validations (0 for a sample never predicted
        wrong)."""
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

    def csv_rows(self, classes=()):
        """A row per sample (``CSV_FIELDS``): the last validation's prediction and loss, the status, the
        forgetting events, the 1-based epoch first learned (empty: never), the suspect class and its score;
        classes by name where ``classes`` names them."""
        def name(k):
            return classes[k] if k < len(classes) else str(k)

        suspect, score = self.suspects()
        first = self.first_learned()
        for k, (target, status, events) in enumerate(zip(self.targets, self.status(), self.forgetting_events(),
                                                         strict=True)):
            wrong = score[k] > 0
            yield (k, name(target), name(self.predictions[-1, k]), f"{self.losses[-1, k]:.5g}", status, events,
                   first[k] + 1 if first[k] >= 0 else "", name(suspect[k]) if wrong else "", f"{score[k]:.4f}")

    def arrays(self):
        """The history as named arrays (what ``samples.npz`` holds)."""
        return {name: getattr(self, name) for name in HISTORY_ARRAYS}


class SampleTracker(Callback):
    """Keeps each validation sample's results at every epoch (``history()``). With a ``path``, it rewrites the
    summary there (``SampleHistory.csv_rows``) and the history's arrays beside it (``samples.npz``), atomically,
    after each validation; when that arrays file is already there (a resumed run), the history continues it from
    the first validation on the same samples, less the validations of the epochs trained again. A validation
    without one class per sample (outputs denser than (N, classes)) is not tracked."""

    def __init__(self, path=None, classes=()):
        self.path = path
        self.history_path = None if path is None else os.path.splitext(path)[0] + HISTORY_SUFFIX
        self.classes = tuple(classes)
        self.targets = None
        self._rows = []  # (epoch, losses, predictions, confidence) per validation

    def on_validation(self, trainer, result):
        self.record(result, trainer.epoch)

    def record(self, result, epoch):
        """Add the ``EvalResult`` of a validation at 0-based ``epoch``; ``ValueError`` when its samples are not
        those of the earlier validations, in the same order."""
        if result.predicted_probability is None:
            return
        if self.targets is None:
            self.targets = np.asarray(result.targets).copy()
            self._rows = self._saved_rows(epoch)
        elif not np.array_equal(self.targets, result.targets):
            raise ValueError(f"the validation at epoch {epoch + 1} has other targets, or another order, than the "
                             "first one: per-sample tracking needs the same validation samples, unshuffled")
        self._rows.append((epoch, result.losses, result.predictions, result.predicted_probability))
        if self.path is not None:
            history = self.history()
            write_csv(self.path, CSV_FIELDS, history.csv_rows(self.classes), RunFileError)
            atomic_write(self.history_path, lambda fh, _tmp: np.savez(fh, **history.arrays()), RunFileError)

    def _saved_rows(self, epoch):
        """The rows of the validations before ``epoch`` that the arrays file holds for the same samples (none
        without the file; a damaged file, or one of other samples, is left out with a ``FileWarning``)."""
        if self.history_path is None or not os.path.exists(self.history_path):
            return []
        try:
            arrays = load_npz(self.history_path)
        except WeightFileError as e:
            problem = e.problem
        else:
            problem = _misfit(arrays, self.targets)
        if problem is not None:
            warnings.warn(FileWarning(f"{self.history_path}: {problem}; the per-sample history starts again at "
                                      f"epoch {epoch + 1}"), stacklevel=2)
            return []
        return [(int(e), *row) for e, *row in zip(arrays["epochs"], arrays["losses"], arrays["predictions"],
                                                   arrays["confidence"], strict=True) if e < epoch]

    def history(self):
        """The ``SampleHistory`` so far, or None before the first validation."""
        if not self._rows:
            return None
        epochs, losses, predictions, confidence = zip(*self._rows, strict=True)
        return SampleHistory(self.targets, np.stack(losses), np.stack(predictions), np.stack(confidence),
                             np.asarray(epochs))


def _misfit(arrays, targets):
    """Why the arrays of a ``samples.npz`` do not continue a history of ``targets``, or None."""
    missing = [name for name in HISTORY_ARRAYS if name not in arrays]
    if missing:
        return f"it lacks the array{'s' if len(missing) > 1 else ''} {', '.join(missing)}"
    epochs = arrays["epochs"]
    if epochs.ndim != 1 or any(arrays[name].shape != (len(epochs), len(targets))
                               for name in ("losses", "predictions", "confidence")):
        return "its arrays' shapes do not agree"
    if not np.array_equal(arrays["targets"], targets):
        return "it holds other validation samples (other targets, or another order)"
    return None
