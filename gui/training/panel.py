"""The training panel: settings form, run controls, progress, live plots, and the evaluation, prediction and
runs views, driving one ``TrainingController``.

The window owning it puts ``actions()`` in its Train menu, makes the editor read-only while
``runningChanged(True)``, connects ``layerActivated`` to selecting that node, and calls ``highlight_layer``
when the editor selects one. The panel stops and joins its worker when its window closes, when the
application quits, or when ``shutdown()`` is called.
"""

import functools
import os
import time

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QFrame,
    QLabel,
    QScrollArea,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from engine.graph.build import errors_text
from engine.training.predictor import Predictor, load_trained
from engine.training.runs import RunFileError, list_runs, runs_folder
from engine.training.sweep_record import DONE_STATES
from engine.training.trainer import NonFiniteLossError
from engine.utils.files import FileError
from gui.widgets import size_to_current_page

from . import style
from .controller import TrainingController
from .dataset_view import DatasetView
from .download_dialog import DatasetDownloadDialog
from .evaluation import EvaluationView
from .export_dialog import ExportDialog
from .health_badges import node_badges
from .health_view import HealthView
from .lr_finder_dialog import LRFinderDialog
from .plots import TrainingPlots
from .prediction import PredictionView
from .preflight_dialog import PreflightDialog, open_preflight_dialog
from .progress import ProgressStrip
from .recovery_bar import RecoveryBar
from .runs_view import RunsView, last_run_text
from .settings_form import SettingsForm
from .step_inspector import StepInspector
from .sweep_dialog import SweepDialog

PLOT_BUDGET = 0.015  # share of the time the live plots may spend redrawing while a run trains
MAX_REDRAW_INTERVAL = 1.0  # seconds: redraw at least this often, however slow drawing is
PROGRESS_INTERVAL = 0.25  # seconds between updates of the progress text
HEALTH_INTERVAL = 0.5  # seconds between updates of the health table and the nodes' health while running


class _CloseWatcher(QObject):
    """Calls ``shutdown`` when the panel's top-level window has closed (not when the window refused to, as
    one asking about unsaved changes may)."""

    def __init__(self, panel):
        super().__init__(panel)
        self.panel = panel

    def eventFilter(self, window, event):
        if event.type() == QEvent.Type.Close:
            QTimer.singleShot(0, self, lambda: None if window.isVisible() else self.panel.shutdown())
        return False


def _join_worker(controller):
    """Stop and wait for a run's thread using only the worker (the Qt objects may be gone already)."""
    worker = controller.worker
    if worker is not None:
        worker.stop(cancel=True)
        worker.join()


class TrainingPanel(QWidget):
    runningChanged = Signal(bool)
    layerActivated = Signal(str)  # a gradient-norm line or legend entry was clicked: select that node
    healthBadges = Signal(object)  # {node id: HealthBadge} for the graph ({}: none)

    def __init__(self, document, network_path_getter=lambda: None, parent=None, edits=None):
        super().__init__(parent)
        self.document = document
        self.network_path = network_path_getter
        self.controller = TrainingController(self)
        self.download_dialog = None
        self.export_dialog = None
        self.dataset_view = None
        self.lr_finder = None
        self.sweep_dialog = None
        self._relaunch = None  # how to start again once a missing dataset is in place
        self._watched_window = None
        self._was_busy = False
        self._next_redraw = self._next_progress = self._next_health = 0.0

        self.settings_form = SettingsForm(document, edits)
        self.plots = TrainingPlots(self.controller.history)
        self.health_view = HealthView(self.controller.health)
        self._badges_shown = None  # the health revision and measure the graph shows
        self.progress = ProgressStrip()
        self.evaluation_view = EvaluationView()
        self.prediction_view = PredictionView()
        self.runs_view = RunsView(lambda: list_runs(self.network_path()), lambda: self.document, self._is_live_run)
        self.banner = QLabel()
        self.banner.setWordWrap(True)
        self.banner.setStyleSheet(style.WARNING_STYLE)
        self.banner.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.banner.hide()
        self.recovery_bar = RecoveryBar()
        self.step_inspector = None
        self.recovery_bar.chosen.connect(self._recover)
        self.run_label = QLabel()
        self.run_label.setStyleSheet(style.MUTED_STYLE)
        self.run_label.setWordWrap(True)  # a long run folder wraps instead of widening the panel past its window
        self.run_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self._make_actions()
        self.toolbar = QToolBar()
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toolbar.setIconSize(QSize(16, 16))
        self.toolbar.addAction(self.dataset_action)
        self.toolbar.addAction(self.find_lr_action)
        self.toolbar.addAction(self.preflight_action)
        self.toolbar.addSeparator()
        for action in (self.start_action, self.pause_action, self.resume_action, self.step_action, self.stop_action,
                       self.continue_action):
            self.toolbar.addAction(action)
        self.toolbar.addSeparator()
        for action in (self.export_model_action, self.export_png_action, self.export_csv_action):
            self.toolbar.addAction(action)

        self.tabs = QTabWidget()
        self.tabs.addTab(self.plots, "Live plots")
        self.tabs.addTab(self.health_view, "Health")
        self.tabs.addTab(self.evaluation_view, "Evaluation")
        self.tabs.addTab(self.prediction_view, "Prediction")
        self.tabs.addTab(self.runs_view, "Runs")
        self.tabs.currentChanged.connect(self._tab_changed)
        size_to_current_page(self.tabs)  # a tall evaluation view would otherwise make the live plots scroll too
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 0, 0, 0)
        right_layout.addWidget(self.toolbar)
        right_layout.addWidget(self.progress)
        right_layout.addWidget(self.run_label)
        right_layout.addWidget(self.banner)
        right_layout.addWidget(self.recovery_bar)
        right_layout.addWidget(self.tabs, 1)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.settings_form)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([self.settings_form.minimumWidth(), 900])
        self.body = QScrollArea()  # in a short or narrow dock the panel scrolls rather than squash its views
        self.body.setWidgetResizable(True)
        self.body.setFrameShape(QFrame.Shape.NoFrame)
        self.body.setWidget(splitter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.body)

        c = self.controller
        c.stateChanged.connect(self._state_changed)
        c.runStarted.connect(self._run_started)
        c.updated.connect(self._updated)
        c.runEnded.connect(self._run_ended)
        c.evaluationReady.connect(self.evaluation_view.show_evaluation)
        c.datasetMissing.connect(self._dataset_missing)
        c.errorOccurred.connect(self._show_banner)
        c.finished.connect(self._finished)
        c.runsMoved.connect(self._runs_moved)
        self.plots.layerActivated.connect(self.layerActivated)
        self.health_view.layerActivated.connect(self.layerActivated)
        self.health_view.measureChanged.connect(lambda _: self._show_health())
        self.runs_view.continueRequested.connect(self.continue_run)
        self.runs_view.tree.currentItemChanged.connect(lambda *_: self._update_continue())
        self.runs_view.predictRequested.connect(self._predict_with_run)
        self.runs_view.restoreRequested.connect(self.restore_run)
        app = QApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)
        self.destroyed.connect(lambda *_, c=self.controller: _join_worker(c))
        document.subscribe(self._on_document)
        self.destroyed.connect(functools.partial(document.unsubscribe, self._on_document))
        self._state_changed("idle")
        self.refresh_runs()

    # ----- actions -----
    def _action(self, text, icon, slot, shortcut=None, tip=""):
        action = QAction(self.style().standardIcon(icon), text, self)
        if shortcut:
            action.setShortcuts(shortcut if isinstance(shortcut, list) else [shortcut])
        action.setToolTip(tip or text)
        action.setStatusTip(tip or text)
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _make_actions(self):
        sp = QStyle.StandardPixmap
        self.start_action = self._action("Start", sp.SP_MediaPlay, self.start,
                                         [QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")],
                                         "Train the network with these settings (Ctrl+Enter)")
        self.pause_action = self._action("Pause", sp.SP_MediaPause, self.controller.pause,
                                         tip="Pause after the current mini-batch")
        self.resume_action = self._action("Resume", sp.SP_MediaPlay, self.controller.resume)
        self.step_action = self._action("Step", sp.SP_MediaSkipForward, self.controller.step,
                                        tip="Train one mini-batch, then stay paused")
        self.stop_action = self._action("Stop", sp.SP_MediaStop, self.controller.stop,
                                        tip="Stop after the current mini-batch, keeping the weights")
        self.continue_action = self._action("Continue", sp.SP_BrowserReload, self.continue_run,
                                            tip="Continue the selected (or last) run from its checkpoint, with the "
                                                "optimizer state, up to the epochs in the settings (or that many "
                                                "more when it has them); a run without checkpoint (an imported "
                                                "model) is fine-tuned: a new run starts from its weights")
        self.dataset_action = self._action("Dataset", sp.SP_DirIcon, self.open_dataset_view,
                                           tip="Look at the dataset: images by class, class counts, the split and "
                                               "unreadable files")
        self.find_lr_action = self._action("Find LR…", sp.SP_FileDialogContentsView, self.open_lr_finder,
                                           tip="Sweep the learning rate over a few mini-batches with these settings "
                                               "and suggest one")
        self.preflight_action = self._action("Pre-flight check…", sp.SP_DialogApplyButton,
                                             functools.partial(open_preflight_dialog, self,
                                                               lambda _running: self._update_start()),
                                             tip="One batch through the initial weights: warns where activations or "
                                                 "gradients vanish or explode; checks gradients numerically")
        self.sweep_action = self._action("Sweep…", sp.SP_FileDialogListView, self.open_sweep_dialog,
                                         tip="Train the saved network once per combination of the settings you vary "
                                             "(grid, random or TPE search), in worker processes, and compare the runs")
        self.inspector_action = self._action("Step inspector…", sp.SP_FileDialogInfoView, self.open_step_inspector,
                                             tip="While it is open every step records its tensors: pause or step, "
                                                 "then click a connection or a layer to see its output, gradient "
                                                 "and feature maps (a convolution's filters too)")
        self.export_model_action = self._action("Export trained model…", sp.SP_DialogSaveButton,
                                                self.open_export_dialog)
        self.export_png_action = self._action("Export plots as PNG…", sp.SP_FileIcon, self._export_png)
        self.export_csv_action = self._action("Export metrics as CSV…", sp.SP_FileDialogDetailedView,
                                              self._export_csv)

    def actions(self):
        """The Train menu: Start, Pause, Resume, Step, Stop, Continue, then the exports, the dataset view, the
        learning-rate finder, the pre-flight check, the sweep and the step inspector."""
        return [self.start_action, self.pause_action, self.resume_action, self.step_action, self.stop_action,
                self.continue_action, self.export_model_action, self.export_png_action, self.export_csv_action,
                self.dataset_action, self.find_lr_action, self.preflight_action, self.sweep_action,
                self.inspector_action]

    def _state_changed(self, state):
        idle = state == "idle"
        self.pause_action.setEnabled(state in ("starting", "running") and self.controller.pausable)
        self.resume_action.setEnabled(state == "paused")
        self.step_action.setEnabled(state == "paused")
        self.stop_action.setEnabled(state in ("starting", "running", "paused"))
        self._update_start()
        self.export_model_action.setEnabled(idle)
        self.find_lr_action.setEnabled(idle)
        self.preflight_action.setEnabled(idle)
        has_data = len(self.controller.history) > 0
        self.export_png_action.setEnabled(has_data)
        self.export_csv_action.setEnabled(has_data)
        self.settings_form.setEnabled(idle)
        self.runs_view.continue_button.setVisible(idle)
        self.runs_view.buttons["restore"].setVisible(idle)
        self.progress.set_state(state)
        if state in ("paused", "idle"):  # show the steps that paced updates skipped
            self.plots.refresh()
            self.progress.show_progress(self.controller.progress)
        busy = not idle
        if busy != self._was_busy:
            self._was_busy = busy
            self.runningChanged.emit(busy)

    @property
    def running(self):
        return self.controller.busy

    # ----- starting -----
    def start(self):
        """Start a new run of the document (the Start action)."""
        if self.controller.busy:
            return
        inference = self.document.infer()
        if not inference.ok:
            self._show_banner("Cannot train: " + errors_text(inference, self.document))
            return
        self._launch(lambda: self.controller.start(self.document, self.network_path()))

    def continue_run(self, run=None):
        """Continue ``run`` (default: the one selected in the runs list, else the last) from its checkpoint; a
        run with weights but no checkpoint (an imported model) is fine-tuned: a new run of the document starts
        from its weights."""
        run = run or self._run_to_continue()
        if run is None or self.controller.busy:
            return
        if not run.has_checkpoint:
            weights = run.trained_weights_path
            self._launch(lambda: self.controller.start(self.document, self.network_path(),
                                                       self.document.settings["data_dir"], initial_weights=weights))
            return
        wanted = self.document.settings["epochs"]
        epochs = wanted if wanted > run.epochs_completed else run.epochs_completed + wanted
        self._launch(lambda: self.controller.continue_run(run.folder, epochs, self.document.settings["data_dir"]))

    def _launch(self, launch):
        if self._checks_running():  # it would rewind the run's random draws when it restores the random state
            self._show_banner("A learning-rate sweep or pre-flight check is running: train once it has ended.")
            return
        self._show_banner("")
        self.recovery_bar.withdraw()
        self.plots.set_message("")
        self._relaunch = launch
        try:
            launch()
        except (RunFileError, OSError, ValueError) as e:
            self._show_banner(str(e))

    def _run_to_continue(self):
        selected = self.runs_view.selected_run()
        if selected is not None and selected.status != "damaged" and selected.trained_weights_path is not None:
            return selected
        runs = [r for r in self.runs_view.runs if r.status != "damaged" and r.has_checkpoint]
        return runs[-1] if runs else None

    # ----- the controller's news -----
    def _run_started(self, start):
        self.evaluation_view.clear()
        self.prediction_view.set_predictor(None, "Prediction is available when the run has ended.")
        processes = f"  ·  {start.processes} processes (data-parallel)" if start.processes > 1 else ""
        self.run_label.setText(f"Run folder: {start.run_folder}  ·  {start.train_images:,} training images, "
                               f"batch {start.batch_size}{processes}")
        self._start_plots(start.epochs, start.steps_per_epoch, start.first_epoch * start.steps_per_epoch)
        self.plots.refresh()
        self._show_health()  # the last run's badges go
        if self.step_inspector is not None:
            self.step_inspector.clear()

    def _start_plots(self, epochs, steps_per_epoch, first_step=0):
        """Set the plots' axes for a run of ``epochs``; steps already in the history say where it starts."""
        steps = self.controller.history.column("global_step")
        first = float(steps[0]) - 1 if len(steps) else first_step
        self.plots.start_run(first, epochs * steps_per_epoch, epochs)

    def _updated(self):
        now = time.perf_counter()
        if now >= self._next_progress or self.controller.state != "running":
            self.progress.show_progress(self.controller.progress)
            self._next_progress = now + PROGRESS_INTERVAL
        paced = self.controller.state == "running"  # single steps while paused show at once
        if self.tabs.currentWidget() is self.plots and (now >= self._next_redraw or not paced):
            self._redraw()
        if now >= self._next_health or not paced:
            self._show_health()
            self._next_health = now + HEALTH_INTERVAL

    def _show_health(self):
        """Give the graph's nodes their health badges, and the Health tab its table, when either changed."""
        health = self.controller.health
        if self.tabs.currentWidget() is self.health_view:
            self.health_view.refresh()
        shown = (health.revision, self.health_view.measure_key)
        if shown != self._badges_shown:
            self._badges_shown = shown
            self.healthBadges.emit(node_badges(self.document, health, self.health_view.measure_key))

    def _redraw(self):
        """Redraw the plots and pace the next redraw so that drawing takes at most ``PLOT_BUDGET`` of the time
        (the GUI thread shares the interpreter with the training thread)."""
        self.plots.refresh()
        pause = min(MAX_REDRAW_INTERVAL, self.plots.frame_seconds / PLOT_BUDGET)
        self._next_redraw = time.perf_counter() + pause

    def _tab_changed(self, _index):
        if self.tabs.currentWidget() is self.plots:
            self.plots.refresh()
        elif self.tabs.currentWidget() is self.health_view:
            self.health_view.refresh()
        elif self.tabs.currentWidget() is self.runs_view and not self.controller.busy:
            self.refresh_runs()  # the network may have been saved elsewhere since

    def _on_document(self, event, payload):
        """Another network was opened into the document: what is shown belongs to the old one."""
        if event == "reset":
            for dialog in self._check_dialogs():  # their sweep or check, and its Use, are the old network's
                dialog.close()
        if event == "reset" and not self.controller.busy:
            if self.step_inspector is not None:
                self.step_inspector.clear()
            self.recovery_bar.withdraw()
            self.controller.clear()
            self.plots.set_message("")
            self.plots.refresh()
            self._show_health()
            self.evaluation_view.clear()
            self.prediction_view.set_predictor(None)
            self.progress.show_progress(self.controller.progress)
            self.run_label.setText("")
            self._show_banner("")
            self.refresh_runs()

    def _run_ended(self, info):
        if info.status == "failed":
            self.plots.set_message(info.message)
            self._show_banner(info.message)
        elif info.status == "stopped":
            self.run_label.setText(self.run_label.text() + f"  ·  stopped at step {info.global_step:,}; the weights "
                                   "and a checkpoint are kept")

    def _finished(self):
        c = self.controller
        self.plots.refresh()
        self.progress.show_progress(c.progress)
        if c.setup is not None and c.run is not None:
            self.prediction_view.set_predictor(Predictor(c.setup.model, c.setup.network, c.setup.data.classes,
                                                         f"run {c.run.name} (just trained)"))
        self.refresh_runs()
        self._state_changed("idle")
        if c.last_end is not None and isinstance(c.last_end.error, NonFiniteLossError):
            self.recovery_bar.offer(c.run, c.run.network().settings if c.run is not None else self.document.settings)

    def _recover(self, run, changes):
        """Continue ``run`` from its last good checkpoint with ``changes`` to its settings, or (``run`` None) make
        the changes to the document, as one undoable edit, and start again."""
        if run is not None:
            self._launch(lambda: self.controller.continue_run(run.folder, run.epochs,
                                                              self.document.settings["data_dir"], changes))
            return
        refusal = self.settings_form.edits.set_settings(changes)
        if refusal:
            self._show_banner(refusal)
            return
        self.start()

    def _show_banner(self, text):
        self.banner.setText(text)
        self.banner.setVisible(bool(text))

    # ----- a missing dataset -----
    def _dataset_missing(self, dataset, data_dir, message):
        self.download_dialog = DatasetDownloadDialog(dataset, data_dir, message, parent=self)
        self.download_dialog.finished.connect(self._download_finished)
        self.download_dialog.open()

    def _download_finished(self, result):
        dialog, self.download_dialog = self.download_dialog, None
        if result != DatasetDownloadDialog.DialogCode.Accepted:
            self._show_banner(f"{dialog.dataset} is needed to train this network; training was not started.")
            return
        if dialog.data_dir and dialog.data_dir != self.document.settings["data_dir"]:
            self.document.set_settings({"data_dir": dialog.data_dir})
        self._after_idle(self._relaunch)

    def _after_idle(self, callback):
        if self.controller.busy:
            QTimer.singleShot(20, lambda: self._after_idle(callback))
        elif callback is not None:
            self._launch(callback)

    # ----- runs, prediction, exports -----
    def refresh_runs(self):
        self.runs_view.refresh(runs_folder(self.network_path()), self.controller.document_runs.earlier_runs)
        self._update_continue()

    def _is_live_run(self, folder):
        """Whether this window is training in the run folder ``folder`` now: its own run, or a trial of the sweep
        its sweep dialog runs."""
        folder, start = os.path.abspath(folder), self.controller.run_start
        if self.controller.busy and start is not None and os.path.abspath(start.run_folder) == folder:
            return True
        sweep = self.sweep_dialog.sweep if self.sweep_dialog is not None and self.sweep_dialog.running else None
        return sweep is not None and any(os.path.abspath(trial.run) == folder and trial.state not in DONE_STATES
                                         for trial in sweep.trials)

    def restore_run(self, run):
        """Put ``run``'s network and settings, as trained, into the document (one undoable edit) and keep the run
        selected, so that Continue training takes it on from there."""
        if self.controller.busy:
            self._show_banner("Reopen a run's network once training has ended.")
            return
        try:
            network = run.network()
        except (FileError, OSError) as e:
            self._show_banner(f"Cannot reopen run {run.name}: {e}")
            return
        refusal = self.settings_form.edits.replace_network(network, f"Open the network of run {run.name}")
        if refusal:
            self._show_banner(f"Cannot reopen run {run.name}: {refusal}")
            return
        self.refresh_runs()
        self.runs_view.select(run.name)
        self._show_banner("")
        self.run_label.setText(f"The network and settings of run {run.name}, as it trained them (Undo brings back "
                               "the network as it was)")

    def _check_dialogs(self):
        return [d for d in (self.lr_finder, self.findChild(PreflightDialog)) if d is not None]

    def _checks_running(self):
        """Whether a learning-rate sweep or a pre-flight check runs: they save and restore the engine's random
        state, which a run started meanwhile would have rewound."""
        return any(dialog.jobs.running for dialog in self._check_dialogs())

    def _update_start(self):
        self.start_action.setEnabled(not self.controller.busy and not self._checks_running())
        self._update_continue()

    def _update_continue(self):
        self.continue_action.setEnabled(not self.controller.busy and not self._checks_running()
                                        and self._run_to_continue() is not None)

    def network_file_changed(self):
        """The document was saved under a new name or another file was opened (the window's ``pathChanged``):
        runs made before it had a file move next to it, and a file opened with runs shows its last one."""
        self.controller.network_file_changed(self.network_path())
        if not self.controller.busy and self.controller.run is None:
            self._show_last_run()
        self.refresh_runs()

    def _show_last_run(self):
        if self.network_path() is None:  # the shared folder of unsaved networks' runs is no one network's
            return
        runs = [r for r in list_runs(self.network_path()) if r.status != "damaged"]
        if not runs:
            return
        run = runs[-1]
        try:
            self.controller.show_run(run)
        except RunFileError as e:
            self._show_banner(f"Cannot show the last run: {e}")
            return
        progress = self.controller.progress
        self._start_plots(progress.epochs, progress.steps_per_epoch)
        self.plots.refresh()
        self._show_health()
        self.progress.show_progress(progress)
        self.run_label.setText(last_run_text(run))
        if run.trained_weights_path is not None:
            self._predict_with_run(run, show=False)
        self._state_changed(self.controller.state)

    def _runs_moved(self, report):
        """Runs of the document moved next to its file: name their new folders, and any that could not move."""
        label = self.run_label.text()
        for old, new in report.moved:
            label = label.replace(old, new)
        self.run_label.setText(label)
        if report.failed:
            self._show_banner(report.failure_text())
        self.refresh_runs()

    def _predict_with_run(self, run, show=True):
        try:
            self.prediction_view.set_predictor(load_trained(run.folder))
        except (RunFileError, OSError, ValueError, RuntimeError) as e:  # RuntimeError: weights that do not fit
            self._show_banner(f"Cannot use run {run.name}: {e}")
            return
        if show:
            self.tabs.setCurrentWidget(self.prediction_view)

    def trained_weights(self):
        """``(state_dict, description)`` of the last run's model, or ``(None, "")`` before any."""
        c = self.controller
        if c.setup is None or c.busy:
            return None, ""
        return c.setup.model.state_dict(), f"run {c.run.name}"

    def open_dataset_view(self):
        if self.dataset_view is None:
            self.dataset_view = DatasetView(self.document, parent=self)
        else:
            self.dataset_view.reload()
        self.dataset_view.show()
        self.dataset_view.raise_()
        return self.dataset_view

    def open_step_inspector(self):
        """Show the step inspector; while it is open the runs record each step's tensors."""
        if self.step_inspector is None:
            self.step_inspector = StepInspector(self)
            self.controller.snapshotReady.connect(self.step_inspector.show_snapshot)
            self.step_inspector.finished.connect(lambda _result: self._inspecting(False))
        self._inspecting(True)
        self.step_inspector.show()
        self.step_inspector.raise_()
        return self.step_inspector

    def _inspecting(self, on):
        self.controller.capture_steps(on)
        if not on:
            self.step_inspector.clear()  # nothing is kept once closed

    def inspect_layer(self, layer, filters=False):
        """Show ``layer`` (a node's name) in the open step inspector, and with ``filters`` (a node was clicked,
        not a connection) its filters if it is a convolution."""
        if self.step_inspector is not None and self.step_inspector.isVisible():
            self.step_inspector.show_layer(layer, filters)

    def open_lr_finder(self):
        """Show the learning-rate finder on the document (made once, sweeping when shown); its Use button edits
        the settings."""
        if self.lr_finder is None:
            self.lr_finder = LRFinderDialog(self.document, self.settings_form.edits, lambda: self.controller.busy,
                                            parent=self)
            self.lr_finder.jobs.runningChanged.connect(lambda _running: self._update_start())
        self.lr_finder.show()
        self.lr_finder.raise_()
        return self.lr_finder

    def open_sweep_dialog(self):
        """Show the sweep dialog of the network's file (made again, when no sweep runs, for another file or changed
        settings); its trials' runs appear in the Runs tab as they end."""
        path = self.network_path()
        path = None if path is None else os.path.abspath(path)
        settings = dict(self.document.settings)
        dialog = self.sweep_dialog
        if dialog is None or (not dialog.running and (dialog.network_path, dialog.settings) != (path, settings)):
            if dialog is not None:
                dialog.deleteLater()
            dialog = self.sweep_dialog = SweepDialog(path, settings, self, lambda: self.window().isWindowModified())
            dialog.runsChanged.connect(self.refresh_runs)
        dialog.show()
        dialog.raise_()
        return dialog

    def open_export_dialog(self):
        state_dict, source = self.trained_weights()
        classes = self.controller.setup.data.classes if state_dict is not None else None
        self.export_dialog = ExportDialog(self.document, state_dict, source, self.network_path(), classes, parent=self)
        self.export_dialog.open()
        return self.export_dialog

    def _save_path(self, title, extension, kind):
        base = self.network_path()
        stem = os.path.splitext(base)[0] if base else os.path.join(os.path.expanduser("~"), "training")
        path, _ = QFileDialog.getSaveFileName(self, title, f"{stem}_{kind}{extension}",
                                              f"{kind.upper()} (*{extension})")
        return path

    def _export_png(self):
        self._export(self.export_plots_png, self._save_path("Export plots", ".png", "plots"))

    def _export_csv(self):
        self._export(self.export_metrics_csv, self._save_path("Export metrics", ".csv", "metrics"))

    def _export(self, write, path):
        if not path:
            return
        try:
            write(path)
        except OSError as e:
            self._show_banner(f"Could not write {path}: {e}")

    def export_plots_png(self, path):
        self.plots.refresh()
        self.plots.export_png(path)

    def export_metrics_csv(self, path):
        self.controller.history.write_csv(path)

    # ----- layers -----
    def highlight_layer(self, node_name):
        """The editor selected ``node_name`` (or None): emphasise its gradient-norm line and select its health
        row."""
        self.plots.highlight_layer(node_name)
        if node_name is not None:
            self.health_view.select_layer(node_name)

    # ----- closing -----
    def showEvent(self, event):
        super().showEvent(event)
        window = self.window()
        if window is not self._watched_window:
            if self._watched_window is not None:
                self._watched_window.removeEventFilter(self._close_watcher)
            self._close_watcher = _CloseWatcher(self)
            window.installEventFilter(self._close_watcher)
            self._watched_window = window

    def shutdown(self):
        """Stop any run and wait for its thread; cancel a download in progress. Safe to call more than once."""
        if self.download_dialog is not None:
            self.download_dialog.cancel_download()
        if self.dataset_view is not None:
            self.dataset_view.shutdown()
        for dialog in self._check_dialogs():
            dialog.shutdown()
        if self.sweep_dialog is not None:
            self.sweep_dialog.shutdown()
        self.controller.shutdown()
