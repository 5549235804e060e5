"""Error analysis under the evaluation charts: one gallery, and tabs for what it shows: the misclassified test
images first, the highest losses, the images of a confusion-matrix cell (most confident mistakes first), and,
from the per-sample tracking of the validation set over epochs, the images never learned (likeliest
mislabelled first) and those forgotten. A right click on an image offers to explain it (Grad-CAM, saliency)
in a window of its own; those windows close when the evaluation they came from goes."""

from PySide6.QtWidgets import QMenu, QTabBar, QVBoxLayout, QWidget

from engine.training.sample_losses import cell_samples, top_losses
from engine.training.sample_tracking import FORGOTTEN

from .explain import ExplainDialog
from .gallery import CELL as GALLERY_CELL
from .gallery import Gallery, Labels

MISCLASSIFIED, TOP_LOSSES, CELL, NEVER_LEARNED, FORGOTTEN_TAB = range(5)
CELL_HINT = "Click a cell of the confusion matrix to see its images"
NO_TRACKING = "Tracked on the validation set at every epoch: needs a run with validation"
EXPLAIN_ACTION = "Explain (Grad-CAM, saliency)…"


def _epoch_losses(history, index):
    return ", ".join(f"{loss:.2f}" for loss in history.losses[:, index])


class ErrorAnalysis(QWidget):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.data = None
        self.cell = None  # (true, predicted) of the last clicked confusion-matrix cell
        self.explain_dialogs = []  # the Explain windows open, each holding the model it explains
        self.tabs = QTabBar()
        self.tabs.setExpanding(False)
        self.tabs.setDrawBase(False)
        for title in ("Misclassified first", "Top losses", "Confusion cell", "Never learned", "Forgotten"):
            self.tabs.addTab(title)
        self.tabs.setTabToolTip(CELL, CELL_HINT)
        self.gallery = Gallery()
        self.gallery.summary.setWordWrap(True)  # a long summary wraps rather than widen the panel
        self.gallery.contextRequested.connect(self._context_menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        layout.addWidget(self.gallery, 1)
        summary_lines = 2 * self.fontMetrics().lineSpacing()
        self.setMinimumHeight(self.tabs.sizeHint().height() + summary_lines + GALLERY_CELL.height() + 16)  # a row
        self._enable()
        self.tabs.currentChanged.connect(self._show)

    # ----- what is shown -----
    def show_evaluation(self, data):
        """Fill from a worker's ``EvaluationData``, showing the misclassified images first."""
        self.close_explanations()
        self.data, self.cell = data, None
        self.tabs.setTabText(CELL, "Confusion cell")
        history = self._history()
        if history is not None:
            self.tabs.setTabText(NEVER_LEARNED, f"Never learned ({len(history.likely_mislabelled()):,})")
            self.tabs.setTabText(FORGOTTEN_TAB, f"Forgotten ({len(history.forgotten()):,})")
        self._enable()
        self._select(MISCLASSIFIED)

    def show_cell(self, true, predicted):
        """The test images of class ``true`` predicted as ``predicted``, highest loss first."""
        if not self._has_losses():
            return
        self.cell = (true, predicted)
        classes = self.data.classes
        self.tabs.setTabText(CELL, f"{classes[true]} → {classes[predicted]}")
        self._enable()
        self._select(CELL)

    def _select(self, tab):
        if self.tabs.currentIndex() == tab:
            self._show(tab)
        else:
            self.tabs.setCurrentIndex(tab)  # currentChanged shows it

    def _history(self):
        return None if self.data is None else self.data.samples

    def _has_losses(self):
        """Whether the evaluation has per-sample losses (one made by ``Trainer.evaluate`` has)."""
        return self.data is not None and self.data.result.losses is not None

    def _enable(self):
        has_data, history = self.data is not None, self._history()
        for tab in range(self.tabs.count()):
            self.tabs.setTabEnabled(tab, has_data)
        self.tabs.setTabEnabled(TOP_LOSSES, self._has_losses())
        self.tabs.setTabEnabled(CELL, self.cell is not None)
        for tab in (NEVER_LEARNED, FORGOTTEN_TAB):
            self.tabs.setTabEnabled(tab, history is not None)
            self.tabs.setTabToolTip(tab, "" if history is not None else NO_TRACKING)

    def _show(self, tab):
        data = self.data
        if data is None or tab < 0:
            return
        result, classes = data.result, tuple(data.classes)
        labels = Labels(classes, result.targets, result.predictions, result.predicted_probability, result.losses)
        limit = self.gallery.limit
        if tab == MISCLASSIFIED:
            self.gallery.show_results(data.dataset, result.predictions, result.targets, classes)
        elif tab == TOP_LOSSES:
            self.gallery.show_samples(data.dataset, top_losses(result, limit), labels,
                                      f"The {limit} test images with the highest loss, highest first (the true "
                                      "class, then the prediction and the loss)", by_loss=True)
        elif tab == CELL and self.cell is not None:
            self._show_cell(labels)
        elif tab in (NEVER_LEARNED, FORGOTTEN_TAB) and self._history() is not None:
            self._show_tracked(tab)

    def _show_cell(self, labels):
        (true, predicted), classes = self.cell, labels.classes
        chosen = cell_samples(self.data.result, true, predicted)
        which = (f"predicted as {classes[predicted]}, the most confident mistakes (highest loss) first"
                 if true != predicted else "predicted right, the least sure (highest loss) first")
        shown = f"The first {self.gallery.limit} of " if len(chosen) > self.gallery.limit else ""
        self.gallery.show_samples(self.data.dataset, chosen, labels,
                                  f"{shown}{len(chosen):,} test images of class {classes[true]} {which}",
                                  by_loss=True)

    def _show_tracked(self, tab):
        data, history = self.data, self._history()
        split = "test" if data.val_dataset is data.dataset else "validation"
        last = Labels(tuple(data.classes), history.targets, history.predictions[-1], history.confidence[-1],
                      history.losses[-1])
        epochs = len(history.epochs)
        if tab == NEVER_LEARNED:
            chosen = history.likely_mislabelled()
            suspect, score = history.suspects()
            notes = {k: f"never right in {epochs} epochs; given to {data.classes[suspect[k]]} with a mean "
                        f"probability of {score[k]:.2f}\nloss by epoch: {_epoch_losses(history, k)}"
                     for k in chosen[:self.gallery.limit]}
            summary = (f"{len(chosen):,} {split} images wrong at every one of the {epochs} epochs, the likeliest "
                       "mislabelled first (put in the same other class, confidently, every epoch)")
        else:
            chosen = history.forgotten()
            events = history.forgetting_events()
            notes = {k: f"{FORGOTTEN} {events[k]} time{'s' if events[k] > 1 else ''}\nloss by epoch: "
                        f"{_epoch_losses(history, k)}" for k in chosen[:self.gallery.limit]}
            summary = (f"{len(chosen):,} {split} images forgotten (right at one epoch, wrong at a later one), the "
                       f"most often forgotten first; captions give the last of {epochs} epochs")
        self.gallery.show_samples(data.val_dataset, chosen, last, summary, notes)

    # ----- explaining an image -----
    def _context_menu(self, index, position):
        """The menu of a gallery image: Explain, where the evaluation kept its model."""
        if self.data is None or getattr(self.data, "model", None) is None:
            return
        menu = QMenu(self)
        action = menu.addAction(EXPLAIN_ACTION)
        if menu.exec(position) is action:
            self.explain(index)

    def explain(self, index):
        """Open an Explain window for sample ``index`` of the images shown now (one that cannot be explained says
        why in it)."""
        data, labels = self.data, self._shown_labels()
        dialog = ExplainDialog(data.model, self.gallery.dataset, index, tuple(data.classes),
                               int(labels.targets[index]), int(labels.predictions[index]), self)
        self.explain_dialogs.append(dialog)
        dialog.destroyed.connect(lambda _=None, closed=dialog: self._forget(closed))
        dialog.show()
        return dialog

    def _forget(self, dialog):
        if dialog in self.explain_dialogs:
            self.explain_dialogs.remove(dialog)

    def close_explanations(self):
        """Close every Explain window (each is deleted on closing, and with it its hold on the model)."""
        for dialog in list(self.explain_dialogs):
            dialog.close()
        self.explain_dialogs.clear()

    def _shown_labels(self):
        """True and predicted classes of the images shown: the tracked split's last epoch, or the test split."""
        if self.tabs.currentIndex() in (NEVER_LEARNED, FORGOTTEN_TAB):
            history = self._history()
            return Labels(self.data.classes, history.targets, history.predictions[-1])
        return Labels(self.data.classes, self.data.result.targets, self.data.result.predictions)

    def clear(self):
        self.close_explanations()
        self.data, self.cell = None, None
        self.gallery.clear()
        self._enable()
