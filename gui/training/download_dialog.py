"""The dialog shown when a run's dataset is not on disk: download it (progress bar, Cancel), or choose the
folder that holds it. Without a network it says so and points to Fashion-MNIST, which Debian ships.

The download runs in a thread; the dialog reads its progress from a timer. ``files`` overrides what is
fetched (a mirror, or a test server on 127.0.0.1).
"""

import threading

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
)

from engine.vision.datasets.utils import resolve_root

from . import downloads


def _megabytes(n):
    return f"{n / 1e6:.1f} MB"


class DatasetDownloadDialog(QDialog):
    """``exec()`` returns Accepted when the data is in place: ``data_dir`` is then the folder to train from
    (the download folder, or the one the user chose; None for the default data folder)."""

    def __init__(self, dataset, data_dir=None, message="", files=None, parent=None):
        super().__init__(parent)
        self.setWindowTitle(f"{dataset} is not on this computer")
        self.setMinimumWidth(520)
        self.dataset = dataset
        self.data_dir = data_dir
        self.root = resolve_root(data_dir)
        try:
            self.files = files if files is not None else downloads.dataset_files(dataset, data_dir)
        except ValueError:  # an image folder: nothing to download
            self.files = []
        self.error = None
        self.offline = False
        self._thread = None
        self._cancel = False
        self._lock = threading.Lock()
        self._progress = (0, 0, None)  # file index, bytes received, total bytes
        self._outcome = None  # None while running; "" on success; else the error text

        host = downloads.host_of(self.files[0]) if self.files else ""
        self.text = QLabel()
        self.text.setWordWrap(True)
        if self.files:
            self.text.setText(f"<b>{dataset}</b> was not found in <tt>{self.root}</tt>.<br><br>Download it from "
                              f"<b>{host}</b> into that folder, or choose a folder that already holds it.")
        else:
            self.text.setText(f"<b>{dataset}</b> was not found. Choose the folder that holds it (with train/ and "
                              "test/ sub-folders of one folder per class).")
        self.text.setToolTip(message)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.hide()
        self.download_button = QPushButton("Download")
        self.download_button.setEnabled(bool(self.files))
        self.download_button.clicked.connect(self.start_download)
        self.folder_button = QPushButton("Choose folder…")
        self.folder_button.clicked.connect(self._choose_folder)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.addButton(self.download_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.addButton(self.folder_button, QDialogButtonBox.ButtonRole.ActionRole)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(self.bar)
        layout.addWidget(self.status)
        layout.addWidget(self.buttons)
        self._timer = QTimer(self, interval=50)
        self._timer.timeout.connect(self._poll)

    # ----- choosing a folder -----
    def _choose_folder(self):
        folder = QFileDialog.getExistingDirectory(self, f"Folder with {self.dataset}", self.root)
        if folder:
            self.choose_folder(folder)

    def choose_folder(self, folder):
        self.data_dir = folder
        self.accept()

    # ----- downloading -----
    @property
    def downloading(self):
        return self._thread is not None and self._thread.is_alive()

    def start_download(self):
        self._cancel = False
        self._outcome = None
        self.error, self.offline = None, False
        self.download_button.setEnabled(False)
        self.folder_button.setEnabled(False)
        self.bar.show()
        self.bar.setRange(0, 0)
        self.status.setStyleSheet("")
        self.status.setText(f"Connecting to {downloads.host_of(self.files[0])}…")
        self._thread = threading.Thread(target=self._download, name="layerlab-download", daemon=True)
        self._thread.start()
        self._timer.start()

    def _download(self):
        try:
            for k, remote in enumerate(self.files):
                def progress(received, total, k=k):
                    with self._lock:
                        self._progress = (k, received, total)
                downloads.fetch(remote, progress, lambda: self._cancel)
            with self._lock:
                self._progress = (len(self.files), 0, None)
            downloads.finish(self.dataset, self.data_dir)
            outcome = ""
        except downloads.DownloadCancelled:
            outcome = "cancelled"
        except Exception as e:  # shown to the user; the thread must not die silently
            self.offline = downloads.unreachable(e)
            outcome = str(e)
            self.error = e
        with self._lock:
            self._outcome = outcome

    def _poll(self):
        with self._lock:
            (index, received, total), outcome = self._progress, self._outcome
        if index >= len(self.files):
            self.bar.setRange(0, 0)
            self.status.setText("Checking and unpacking…")
        elif received:
            name = self.files[index].filename
            count = f" (file {index + 1} of {len(self.files)})" if len(self.files) > 1 else ""
            if total:
                self.bar.setRange(0, 1000)
                self.bar.setValue(round(1000 * received / total))
                self.status.setText(f"{name}{count}: {_megabytes(received)} of {_megabytes(total)}")
            else:
                self.status.setText(f"{name}{count}: {_megabytes(received)}")
        if outcome is None:
            return
        self._timer.stop()
        self._thread.join()
        if outcome == "":
            self.accept()
            return
        self.bar.hide()
        self.download_button.setEnabled(True)
        self.folder_button.setEnabled(True)
        self.status.setStyleSheet("color: #c62828;")
        if outcome == "cancelled":
            self.status.setText("Download cancelled; nothing was kept.")
        elif self.offline:
            reason = getattr(self.error, "reason", self.error)
            self.status.setText(f"No network: {downloads.host_of(self.files[0])} cannot be reached ({reason}).\n\n"
                                + downloads.offline_advice())
        else:
            self.status.setText(f"The download failed: {outcome}")

    def cancel_download(self):
        """Stop a download in progress (the partial file is removed) and wait for its thread."""
        if self.downloading:
            self._cancel = True
            self._thread.join()
            self._poll()

    def reject(self):
        if self.downloading:  # Cancel while downloading stops the download and keeps the dialog open
            self.cancel_download()
            return
        super().reject()

    def done(self, result):
        self._cancel = True
        if self._thread is not None:
            self._thread.join()
        self._timer.stop()
        super().done(result)
