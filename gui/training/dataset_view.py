"""A window on the dataset of the document's Input node, to look at before training: the images of each class
page by page, a bar chart of images per class (training and validation side by side, so an imbalance shows),
the split in words, and an image folder's files that cannot be read (a run refuses to start with them).

The ``DatasetSummary`` is made in a thread (loading CIFAR-10 or trying every file of a folder takes seconds)
and read from a timer; thumbnails are read only for the page on show.
"""

import functools
import os
import threading
import traceback

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from engine.graph import NetworkError, network_from_json, network_to_json
from engine.training.dataset_summary import summarize_dataset
from engine.utils.files import FileError
from engine.vision.datasets import DatasetNotFoundError
from engine.vision.image_file import ImageFileError

from . import style
from .download_dialog import DatasetDownloadDialog
from .gallery import image_array, thumbnail_grid, to_pixmap

PAGE = 48  # thumbnails a page
THUMBNAIL = 64
CELL = QSize(THUMBNAIL + 8, THUMBNAIL + 8)
POLL_MS = 100
PART_TITLES = {"train": "Training", "validation": "Validation", "test": "Test"}
BAR_HEIGHT = 0.38  # of one class row, for each of the two bars side by side


class _Summarizer:
    """``summarize_dataset`` in a thread: ``result``, or ``missing`` / ``error`` (a message), once it has ended."""

    def __init__(self, network):
        self.network = network
        self.result = self.missing = self.error = None
        self.progress = (0, 0)  # image-folder files tried, of
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._main, name="layerlab-dataset-summary", daemon=True)
        self._thread.start()

    def _main(self):
        try:
            self.result = summarize_dataset(self.network, progress=self._progressed, stop=self._stop.is_set)
        except DatasetNotFoundError as e:
            self.missing = str(e)
        except (NetworkError, FileError, OSError, ValueError) as e:
            self.error = str(e)
        except Exception:  # a bug: show it rather than lose it in a thread
            self.error = "Reading the dataset failed with an unexpected error:\n" + traceback.format_exc()

    def _progressed(self, done, total):
        self.progress = (done, total)

    def done(self):
        return not self._thread.is_alive()

    def stop(self):
        self._stop.set()
        self._thread.join()


def page_images(dataset, positions):
    """``(position, uint8 H×W×C array or the ImageFileError)`` for each of ``positions`` (one page): a dataset
    in memory is indexed, an image folder's files are read now."""
    if hasattr(dataset, "arrays"):
        data = dataset.arrays()[0]
        return [(p, data[p]) for p in positions]
    shown = []
    for p in positions:
        try:
            shown.append((p, image_array(dataset, p)))
        except ImageFileError as e:
            shown.append((p, e))
    return shown


class DatasetView(QWidget):
    """A window (``Qt.Window``) on ``document``'s dataset; ``reload()`` reads it again (settings changed)."""

    def __init__(self, document, parent=None):
        super().__init__(parent, Qt.WindowType.Window)
        self.document = document
        self.summary = None
        self.page = 0
        self.download_dialog = None
        self._summarizer = None
        self._positions = np.zeros(0, np.int64)  # of the class and part browsed, in its dataset
        self.resize(1180, 680)

        self.title = QLabel()
        font = QFont(self.title.font())
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.title.setFont(font)
        self.split_label = QLabel()
        self.split_label.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.download_button = QPushButton("Download or choose its folder…")
        self.download_button.clicked.connect(self.open_download_dialog)
        self.reload_button = QPushButton("Reload")
        self.reload_button.setToolTip("Read the dataset again (after a change of dataset, folder or split)")
        self.reload_button.clicked.connect(self.reload)
        header = QHBoxLayout()
        header.addWidget(self.title, 1)
        header.addWidget(self.download_button)
        header.addWidget(self.reload_button)

        self.styler = style.PlotStyler()
        self.chart_widget, self.chart = self.styler.widget("Images per class", "", "images",
                                                           axes={"left": pg.AxisItem("left")}, axis_width=None)
        self.chart.setMenuEnabled(False)
        self.chart.getViewBox().invertY(True)  # the first class on top, as in the list
        self.chart.getViewBox().setMouseEnabled(x=False, y=False)
        self.bars = {}  # part name: BarGraphItem
        self.unreadable_label = QLabel()
        self.unreadable_label.setWordWrap(True)
        self.unreadable_list = QListWidget()
        self.unreadable_list.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 4, 0)
        left_layout.addWidget(self.chart_widget, 3)
        left_layout.addWidget(self.unreadable_label)
        left_layout.addWidget(self.unreadable_list, 1)

        self.part_combo = QComboBox()
        self.part_combo.currentIndexChanged.connect(self._part_changed)
        self.class_list = QListWidget()
        self.class_list.currentRowChanged.connect(self._class_changed)
        self.class_list.setMinimumWidth(170)
        classes = QWidget()
        classes_layout = QVBoxLayout(classes)
        classes_layout.setContentsMargins(0, 0, 0, 0)
        classes_layout.addWidget(QLabel("Images of"))
        classes_layout.addWidget(self.part_combo)
        classes_layout.addWidget(self.class_list, 1)
        self.thumbnails = thumbnail_grid(THUMBNAIL, CELL)
        self.previous_button = QPushButton("◀ Previous")
        self.previous_button.clicked.connect(lambda: self.show_page(self.page - 1))
        self.next_button = QPushButton("Next ▶")
        self.next_button.clicked.connect(lambda: self.show_page(self.page + 1))
        self.page_label = QLabel()
        self.page_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        paging = QHBoxLayout()
        paging.addWidget(self.previous_button)
        paging.addWidget(self.page_label, 1)
        paging.addWidget(self.next_button)
        browser = QWidget()
        browser_layout = QVBoxLayout(browser)
        browser_layout.setContentsMargins(4, 0, 0, 0)
        browser_layout.addWidget(self.thumbnails, 1)
        browser_layout.addLayout(paging)

        self.body = QSplitter(Qt.Orientation.Horizontal)
        for widget in (left, classes, browser):
            self.body.addWidget(widget)
        self.body.setStretchFactor(0, 4)
        self.body.setStretchFactor(2, 5)
        self.body.setSizes([440, 190, 550])
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addWidget(self.split_label)
        layout.addWidget(self.status)
        layout.addWidget(self.body, 1)
        layout.addStretch(0)  # takes the room while the body is hidden

        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        document.subscribe(self._on_document)
        self.destroyed.connect(functools.partial(document.unsubscribe, self._on_document))
        self.reload()

    # ----- reading the dataset -----
    @property
    def loading(self):
        return self._summarizer is not None

    def reload(self):
        """Read the document's dataset again, as a run of it now would."""
        self.shutdown()
        network = network_from_json(network_to_json(self.document))  # the thread reads a copy
        name = network.input_node().params["dataset"]
        self.setWindowTitle(f"Dataset: {name}")
        self.title.setText(name)
        self.summary = None
        self._show_summary()
        self._set_status("Reading the dataset…")
        self._summarizer = _Summarizer(network)
        self._timer.start()

    def _on_document(self, event, _payload):
        """Another network was opened into the document: what is shown may be another dataset's."""
        if event == "reset" and self.isVisible():
            self.reload()

    def _poll(self):
        job = self._summarizer
        if not job.done():
            done, total = job.progress
            if total:
                self._set_status(f"Trying every image file as training would read it: {done:,} of {total:,}…")
            return
        self._timer.stop()
        self._summarizer = None
        self.summary = job.result
        self._show_summary()
        if job.missing is not None:
            self._set_status(f"{self.title.text()} is not on this computer, so there is nothing to show yet.\n"
                             f"{job.missing}", warning=True)
            self.download_button.show()
        else:
            self._set_status(job.error or "", warning=True)

    def _set_status(self, text, warning=False):
        self.status.setText(text)
        self.status.setStyleSheet(style.WARNING_STYLE if warning else style.MUTED_STYLE)
        self.status.setVisible(bool(text))

    def shutdown(self):
        """Stop reading and wait for the thread (the window closes, or reads again)."""
        self._timer.stop()
        if self._summarizer is not None:
            self._summarizer.stop()
            self._summarizer = None

    def closeEvent(self, event):
        self.shutdown()
        super().closeEvent(event)

    # ----- a missing dataset -----
    def open_download_dialog(self):
        self.download_dialog = DatasetDownloadDialog(self.title.text(), self.document.settings["data_dir"] or None,
                                                     parent=self)
        self.download_dialog.finished.connect(self._download_finished)
        self.download_dialog.open()

    def _download_finished(self, result):
        dialog, self.download_dialog = self.download_dialog, None
        if result == DatasetDownloadDialog.DialogCode.Accepted:
            if dialog.data_dir and dialog.data_dir != self.document.settings["data_dir"]:
                self.document.set_settings({"data_dir": dialog.data_dir})
            self.reload()

    # ----- showing it -----
    def _show_summary(self):
        s = self.summary
        self.download_button.hide()
        self.body.setVisible(s is not None)  # empty charts and lists would only distract from the status
        self.split_label.setText(s.split_text() if s else "")
        self._show_counts()
        self._show_unreadable()
        self.part_combo.blockSignals(True)
        self.part_combo.clear()
        for part in s.parts if s else ():
            self.part_combo.addItem(f"{PART_TITLES[part.name]} ({len(part):,})", part.name)
        self.part_combo.blockSignals(False)
        self._part_changed()

    def _show_counts(self):
        for bar in self.bars.values():
            self.chart.removeItem(bar)
        self.bars = {}
        s = self.summary
        if s is None:
            return
        rows = np.arange(len(s.classes), dtype=np.float64)
        validation = "validation" if s.held_out else "test"
        for name, color, shift in (("train", style.TRAIN, -BAR_HEIGHT / 2), (validation, style.VALIDATION,
                                                                                BAR_HEIGHT / 2)):
            bar = pg.BarGraphItem(x0=0, y=rows + shift, height=BAR_HEIGHT, width=s.counts(name).astype(np.float64),
                                  brush=color, pen=pg.mkPen(None))
            self.chart.addItem(bar)
            self.bars[name] = bar
        keys = (f"<span style='color:{style.TRAIN}'>■</span> training &nbsp; <span style='color:{style.VALIDATION}'>"
                f"■</span> {'validation' if s.held_out else 'test (validation)'}")
        self.styler.relabel(self.chart, f"Images per class &nbsp; {keys}")  # the key in the title: no bar hidden
        self.chart.getAxis("left").setTicks([list(enumerate(s.classes)), []])
        most = max(1, int(max(s.counts("train").max(initial=0), s.counts(validation).max(initial=0))))
        self.chart.setYRange(-0.6, len(s.classes) - 0.4, padding=0)
        self.chart.setXRange(0, most * 1.08, padding=0)

    def _show_unreadable(self):
        self.unreadable_list.clear()
        s = self.summary
        shown = s is not None and s.is_folder
        self.unreadable_label.setVisible(shown)
        self.unreadable_list.setVisible(shown and bool(s.unreadable))
        if not shown:
            return
        if not s.unreadable:
            self.unreadable_label.setText(f"All {s.files:,} image files in {s.folder} can be read.")
            return
        self.unreadable_label.setText(f"{len(s.unreadable):,} of the {s.files:,} image files in {s.folder} cannot be "
                                      "read: a run refuses to start until they are fixed or removed (or "
                                      "skip_bad_samples is on).")
        for f in s.unreadable:
            item = QListWidgetItem(f"{os.path.relpath(f.path, s.folder)}\n    {f.reason}")
            item.setToolTip(f"{f.path}: {f.reason}")
            self.unreadable_list.addItem(item)

    def current_part(self):
        name = self.part_combo.currentData()
        return None if self.summary is None or name is None else self.summary.part(name)

    def _part_changed(self, _index=None):
        part = self.current_part()
        row = max(0, self.class_list.currentRow())
        self.class_list.blockSignals(True)
        self.class_list.clear()
        if part is not None:
            for name, count in zip(self.summary.classes, part.counts.tolist(), strict=True):
                self.class_list.addItem(f"{name}  ({count:,})")
            self.class_list.setCurrentRow(min(row, self.class_list.count() - 1))
        self.class_list.blockSignals(False)
        self._class_changed()

    def _class_changed(self, _row=None):
        part, row = self.current_part(), self.class_list.currentRow()
        self._positions = part.of_class(row) if part is not None and row >= 0 else np.zeros(0, np.int64)
        self.show_page(0)

    @property
    def pages(self):
        return max(1, -(-len(self._positions) // PAGE))

    def show_page(self, page):
        """Show page ``page`` (from 0) of the browsed class's thumbnails, reading only those images."""
        self.page = min(max(0, page), self.pages - 1)
        self.thumbnails.clear()
        part = self.current_part()
        first = self.page * PAGE
        shown = self._positions[first:first + PAGE].tolist()
        for position, image in page_images(part.dataset, shown) if part is not None else ():
            tip = f"{PART_TITLES[part.name].lower()} image {position}"
            if hasattr(part.dataset, "samples"):
                tip += f"\n{part.dataset.samples[position][0]}"
            if isinstance(image, ImageFileError):
                icon, tip = QIcon(), f"{tip}\n{image.problem}"
            else:
                icon = QIcon(to_pixmap(image, THUMBNAIL))
            item = QListWidgetItem(icon, "")
            item.setSizeHint(CELL)
            item.setToolTip(tip)
            item.setData(Qt.ItemDataRole.UserRole, position)
            self.thumbnails.addItem(item)
        count = len(self._positions)
        self.page_label.setText(f"images {first + 1:,}–{first + len(shown):,} of {count:,}  ·  page {self.page + 1:,} "
                                f"of {self.pages:,}" if count else "no images")
        self.previous_button.setEnabled(self.page > 0)
        self.next_button.setEnabled(self.page < self.pages - 1)

    def changeEvent(self, event):
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.styler.apply()
